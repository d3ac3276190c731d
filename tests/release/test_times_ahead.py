"""A record dated ahead of the clock is refused, whatever it records (CLOCK_SKEW, ten minutes).

Found by a review: only bookings, requests and cancellations were checked. A release eligibility
dated days ahead started a hold whose clock ran from a moment still to come; an answer, a copy
served, a hand-over or a move could be dated after anything that follows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from custody.booking.commands import MoveIn, ScheduleIn
from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.law.model import Action
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import Answer, ResponseIn, ServeIn
from custody.service import Custody
from tests.release.detainer import THEFT, booked, honored_detainer, i247a

HARRIS = "ocd-division/country:us/state:tx/county:harris"
NOW = datetime.fromisoformat("2017-10-05T10:00:00-05:00")
AHEAD = datetime.fromisoformat("2017-10-05T10:11:00-05:00")  # eleven minutes ahead: past the skew
WITHIN = datetime.fromisoformat("2017-10-05T10:09:00-05:00")  # nine minutes ahead: a clock's drift


def _issued(custody: Custody) -> tuple[str, str]:
    booking = booked(custody, HARRIS, "F-1", "2017-10-05T01:00:00-05:00")
    return booking, i247a(custody, booking, "2017-10-05T02:00:00-05:00")


def _served(custody: Custody, at: datetime) -> None:
    custody.serve(_issued(custody)[1], ServeIn(at=at))


def _answered(custody: Custody, at: datetime) -> None:
    custody.respond(_issued(custody)[1], ResponseIn(answers={Action.hold: Answer.honor}, at=at))


def _eligible(custody: Custody, at: datetime) -> None:
    booking = booked(custody, HARRIS, "F-1", "2017-10-05T01:00:00-05:00")
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": at}))


def _moved(custody: Custody, at: datetime) -> None:
    booking = booked(custody, HARRIS, "F-1", "2017-10-05T01:00:00-05:00")
    custody.move(booking, MoveIn(to_agency="ocd-division/country:us/state:tx/place:houston", at=at))


def _scheduled(custody: Custody, at: datetime) -> None:
    booking = booked(custody, HARRIS, "F-1", "2017-10-05T01:00:00-05:00")
    custody.schedule_release(booking, ScheduleIn(planned_at=datetime.fromisoformat("2017-10-06T09:00:00-05:00"), at=at))


def _handed_over(custody: Custody, at: datetime) -> None:
    booking, _ = honored_detainer(
        custody, HARRIS, "F-1", "2017-10-05T01:00:00-05:00", "2017-10-05T02:00:00-05:00", THEFT
    )
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    custody.transfer(booking, TransferIn.model_validate({"at": at, "officer": {"name": "ERO"}}))


RECORDS = pytest.mark.parametrize(
    ("record", "what"),
    [
        (_served, "the time of service"),
        (_answered, "the answer's time"),
        (_eligible, "release eligibility's time"),
        (_moved, "the move's time"),
        (_scheduled, "the schedule's time"),
        (_handed_over, "the hand-over's time"),
    ],
    ids=["serve", "answer", "release eligibility", "move", "schedule", "hand-over"],
)


@RECORDS
def test_a_record_dated_ahead_of_the_clock_is_refused(
    custody: Custody, clock: ManualClock, record: Callable[[Custody, datetime], None], what: str
) -> None:
    """Named in the agency's time, as its pages and forms show it (found by a review: in UTC)."""
    clock.set(NOW)
    with pytest.raises(InvalidInput, match=rf"{what} 2017-10-05T10:11:00-05:00 is in the future"):
        record(custody, AHEAD)


@RECORDS
def test_a_record_within_a_clocks_drift_is_taken(
    custody: Custody, clock: ManualClock, record: Callable[[Custody, datetime], None], what: str
) -> None:
    clock.set(NOW)
    record(custody, WITHIN)


def test_a_copy_served_before_its_request_is_refused_in_the_agency_s_time(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: "…before the request was issued (2017-08-20T17:00:00+00:00)" on a page that
    said "issued 2017-08-20 12:00 CDT"."""
    clock.set(NOW)
    booking = booked(custody, HARRIS, "F-2", "2017-10-05T01:00:00-05:00")
    request = i247a(custody, booking, "2017-10-05T02:00:00-05:00")
    early = ServeIn(at=datetime.fromisoformat("2017-10-05T06:30:00+00:00"))  # 01:30 in Houston
    with pytest.raises(
        InvalidInput, match=r"served \(2017-10-05T01:30:00-05:00\) before .* \(2017-10-05T02:00:00-05:00\)"
    ):
        custody.serve(request, early)
