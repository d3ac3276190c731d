"""A hold the law ends with the release day: New Jersey's directive, as reported, lets a jail keep a
detainee charged with a serious offense only until 11:59 p.m. of the day of release eligibility,
though the I-247A asks for 48 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.law.model import Action
from custody.release.commands import ReleaseIn
from custody.requests.commands import Answer, RequestIn, ResponseIn, ServeIn
from custody.service import Custody

ESSEX = "ocd-division/country:us/state:nj/county:essex"


def test_a_new_jersey_hold_ends_at_11_59_pm_of_the_release_day(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2019-06-03T08:00:00-04:00"))
    booking = custody.book(
        BookingIn.model_validate(
            {
                "agency": ESSEX,
                "booking_number": "NJ-1",
                "booked_at": "2019-06-03T01:00:00-04:00",
                "person": {"last_name": "Doe", "first_name": "Jo", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "arson", "level": "felony", "serious": True}],
            }
        )
    ).id
    request = custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking,
                "form": "I-247A",
                "warrant": "I-200",
                "officer": {"name": "O"},
                "issued_at": "2019-06-03T02:00:00-04:00",
            }
        )
    ).id
    custody.serve(request, ServeIn(at=datetime.fromisoformat("2019-06-03T02:30:00-04:00")))
    custody.respond(
        request,
        ResponseIn(
            answers={a: Answer.honor for a in (Action.hold, Action.notify, Action.transfer)},
            at=datetime.fromisoformat("2019-06-03T03:00:00-04:00"),
        ),
    )
    eligible = datetime.fromisoformat("2019-06-03T14:30:00-04:00")
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": eligible.isoformat()}))

    (hold,) = custody.booking_view(booking)["holds"]
    assert hold["hold_clock"] == "until_end_of_release_day"
    assert datetime.fromisoformat(hold["expires_at"]) == datetime.fromisoformat("2019-06-03T23:59:00-04:00")
    assert datetime.fromisoformat(hold["expires_at"]) < eligible + timedelta(hours=48)
