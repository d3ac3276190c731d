"""The release queue lists whoever is due out soonest first: an active hold's end, else the planned
release; people with neither come last, on either store (found by a review: a hold ending within the
hour was listed after people with nothing planned, who came first on SQLite and last on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from custody.access.policy import Scope
from custody.access.roles import Principal, Role
from custody.api import queries
from custody.booking.commands import ScheduleIn
from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn
from custody.service import Custody
from tests.release.detainer import THEFT, booked, honored_detainer

HARRIS = "ocd-division/country:us/state:tx/county:harris"


def test_the_soonest_due_out_come_first(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    nothing_planned = booked(custody, HARRIS, "Q-1", "2017-10-04T01:00:00-05:00")
    planned_later = booked(custody, HARRIS, "Q-2", "2017-10-04T02:00:00-05:00")
    custody.schedule_release(
        planned_later,
        ScheduleIn.model_validate({"planned_at": "2017-10-09T09:00:00-05:00", "at": "2017-10-05T09:00:00-05:00"}),
    )
    held, _ = honored_detainer(custody, HARRIS, "Q-3", "2017-10-05T01:00:00-05:00", "2017-10-05T02:00:00-05:00", THEFT)
    custody.release_eligible(held, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))

    reader = Principal("t", "T", Role.administrator)
    _, queue = queries.release_queue(custody, reader, Scope.any, 10, 0)
    assert [item["id"] for item in queue] == [held, planned_later, nothing_planned]
