"""A hold the law ends with the release day: New Jersey's directive, as reported, lets a jail keep a
detainee charged with a serious offense only until 11:59 p.m. of the day of release eligibility,
though the I-247A asks for 48 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn
from custody.service import Custody
from tests.release.detainer import honored_detainer

ESSEX = "ocd-division/country:us/state:nj/county:essex"


def test_a_new_jersey_hold_ends_at_11_59_pm_of_the_release_day(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2019-06-03T14:30:00-04:00"))
    booking, _ = honored_detainer(
        custody,
        ESSEX,
        "NJ-1",
        "2019-06-03T01:00:00-04:00",
        "2019-06-03T02:00:00-04:00",
        {"offense": "arson", "level": "felony", "serious": True},
    )
    eligible = datetime.fromisoformat("2019-06-03T14:30:00-04:00")
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": eligible.isoformat()}))

    (hold,) = custody.booking_view(booking)["holds"]
    assert hold["hold_clock"] == "until_end_of_release_day"
    assert datetime.fromisoformat(hold["expires_at"]) == datetime.fromisoformat("2019-06-03T23:59:00-04:00")
    assert datetime.fromisoformat(hold["expires_at"]) < eligible + timedelta(hours=48)
