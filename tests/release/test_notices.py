"""A release notice the agency honored reaches the federal side before the release, for the time
the person actually leaves (found by a review: a notice honored after the release was scheduled was
never sent; a notice for the 3rd stood when the person left on the 2nd; a release "planned" for a
time already past sent an advance notice 23 hours late)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from custody.booking.commands import ScheduleIn
from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.law.model import Action
from custody.release.commands import ReleaseIn
from custody.requests.commands import Answer, RequestIn, ResponseIn
from custody.service import Custody
from tests.release.detainer import booked, i247a

MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"


def _notification_request(custody: Custody, booking: str, issued_at: str, answered_at: str) -> str:
    """An I-247A asking only for notice of release, answered (the mayor's 2017 directive requires it)."""
    document = {
        "booking_id": booking,
        "form": "I-247A",
        "warrant": "I-200",
        "officer": {"name": "O"},
        "issued_at": issued_at,
        "actions": ["notify"],
    }
    request = custody.issue_request(RequestIn.model_validate(document)).id
    custody.respond(request, ResponseIn(answers={Action.notify: Answer.honor}, at=datetime.fromisoformat(answered_at)))
    return request


def _notices(custody: Custody, booking: str) -> list[dict[str, Any]]:
    return [e["data"] for e in custody.booking_view(booking)["timeline"] if e["type"] == "ReleaseNoticeSent"]


def test_a_notice_honored_after_the_release_was_scheduled_goes_out_then(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-05-01T13:00:00-04:00"))
    booking = booked(custody, MIAMI_DADE, "N-1", "2017-05-01T08:00:00-04:00")
    planned = {"planned_at": "2017-05-03T10:00:00-04:00", "at": "2017-05-01T12:00:00-04:00"}
    custody.schedule_release(booking, ScheduleIn.model_validate(planned))
    _notification_request(custody, booking, "2017-05-01T12:30:00-04:00", "2017-05-01T13:00:00-04:00")
    (notice,) = _notices(custody, booking)
    assert datetime.fromisoformat(notice["release_at"]) == datetime.fromisoformat(planned["planned_at"])
    assert notice["advance_hours"] == 45.0  # from the answer at 13:00 on the 1st to 10:00 on the 3rd


@pytest.mark.parametrize(
    ("released_at", "told"),
    [
        ("2017-05-02T08:00:00-04:00", ["2017-05-03T10:00:00-04:00", "2017-05-02T08:00:00-04:00"]),  # a day early
        ("2017-05-03T10:00:00-04:00", ["2017-05-03T10:00:00-04:00"]),  # as planned: not announced twice
    ],
)
def test_a_release_at_another_time_than_the_notice_said_is_told_again(
    custody: Custody, clock: ManualClock, released_at: str, told: list[str]
) -> None:
    clock.set(datetime.fromisoformat("2017-05-01T13:00:00-04:00"))
    booking = booked(custody, MIAMI_DADE, "N-2", "2017-05-01T08:00:00-04:00")
    _notification_request(custody, booking, "2017-05-01T09:00:00-04:00", "2017-05-01T10:00:00-04:00")
    planned = {"planned_at": "2017-05-03T10:00:00-04:00", "at": "2017-05-01T12:00:00-04:00"}
    custody.schedule_release(booking, ScheduleIn.model_validate(planned))
    clock.set(datetime.fromisoformat(released_at))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": released_at}))
    notices = [datetime.fromisoformat(n["release_at"]) for n in _notices(custody, booking)]
    assert notices == [datetime.fromisoformat(t) for t in told]


def test_a_release_planned_for_a_time_already_past_is_refused(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-05-01T13:00:00-04:00"))
    booking = booked(custody, MIAMI_DADE, "N-4", "2017-05-01T08:00:00-04:00")
    with pytest.raises(InvalidInput, match=r"is before the schedule's own time.*recorded as release eligibility"):
        custody.schedule_release(booking, ScheduleIn.model_validate({"planned_at": "2017-05-01T09:00:00-04:00"}))


ESSEX = "ocd-division/country:us/state:nj/county:essex"


def test_a_notice_honored_after_scheduling_follows_the_law_of_the_day_it_is_answered(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: an I-247A on its way when the release was scheduled, decided as of its
    issue day (notice permitted), was answered on 16 March 2019, when New Jersey's directive forbade
    the notice; the notice went out all the same. It is now withheld, and the answer revised."""
    clock.set(datetime.fromisoformat("2019-03-14T09:00:00-04:00"))
    charge = {"offense": "shoplifting", "level": "misdemeanor", "violent": False, "serious": False}
    booking = booked(custody, ESSEX, "N-5", "2019-03-12T07:00:00-04:00", charge)
    request = i247a(custody, booking, "2019-03-14T09:00:00-04:00", delivered=False)
    clock.set(datetime.fromisoformat("2019-03-14T10:00:00-04:00"))
    planned = {"planned_at": "2019-03-18T10:00:00-04:00", "at": "2019-03-14T10:00:00-04:00"}
    custody.schedule_release(booking, ScheduleIn.model_validate(planned))
    clock.set(datetime.fromisoformat("2019-03-16T09:00:00-04:00"))
    custody.deliver()  # it reaches the jail and is decided as of its issue day, the 14th
    answers = {Action.hold: Answer.decline, Action.notify: Answer.honor, Action.transfer: Answer.decline}
    custody.respond(request, ResponseIn(answers=answers, at=clock.now()))
    assert _notices(custody, booking) == []
    types = [e["type"] for e in custody.booking_view(booking)["timeline"]]
    assert "ReleaseNoticeWithheld" in types


def test_an_answer_after_the_planned_time_sends_no_advance_notice(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: the answer at noon sent a notice for 09:00 that morning (advance -3 hours);
    the notice goes with release eligibility instead."""
    clock.set(datetime.fromisoformat("2017-05-01T08:00:00-04:00"))
    booking = booked(custody, MIAMI_DADE, "N-6", "2017-05-01T07:00:00-04:00")
    planned = {"planned_at": "2017-05-01T09:00:00-04:00", "at": "2017-05-01T08:00:00-04:00"}
    custody.schedule_release(booking, ScheduleIn.model_validate(planned))
    clock.set(datetime.fromisoformat("2017-05-01T12:00:00-04:00"))
    _notification_request(custody, booking, "2017-05-01T11:00:00-04:00", "2017-05-01T12:00:00-04:00")
    assert _notices(custody, booking) == []
