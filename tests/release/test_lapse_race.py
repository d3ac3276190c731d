"""Two workers running the hold timers at once lapse a hold once: on SQLite the second finds the hold
already lapsed once it holds the write lock (the chaos run once counted a hold lapsed twice)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn
from custody.requests.commands import CancelIn, ResponseIn, ServeIn
from custody.service import Custody
from custody.store import db
from custody.store.models import DeadLetterRow, EventRow
from tests.release.test_release_all import _book, _detainer


def _held_past_the_limit(tmp_path: Path, number: str) -> tuple[Custody, Custody, ManualClock, str, str]:
    """Two workers on one store, and a booking whose honored hold ran past its limit 24 hours ago."""
    url = f"sqlite:///{tmp_path / 'custody.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    clock = ManualClock(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    first, second = Custody(engine, clock, actor="worker-1"), Custody(db.make_engine(url), clock, actor="worker-2")
    booking = _book(first, number)
    request = _detainer(first, booking)
    first.serve(request, ServeIn(at=datetime.fromisoformat("2017-10-05T02:30:00-05:00")))
    first.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    first.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    clock.advance(timedelta(hours=72))
    return first, second, clock, booking, request


def test_a_hold_due_for_two_workers_lapses_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, _, booking, _ = _held_past_the_limit(tmp_path, "RACE-1")

    original, raced = db.lock_for_writing, []
    lapsed_by_second: list[str] = []

    def lock_after_the_other_worker(connection: Any) -> None:
        if not raced:  # the first worker has read the hold as due; the second lapses it first
            raced.append(True)
            lapsed_by_second.extend(second.tick())
        original(connection)

    monkeypatch.setattr(db, "lock_for_writing", lock_after_the_other_worker)
    lapsed_by_first = first.tick()
    assert len(lapsed_by_second) == 1 and lapsed_by_first == []
    timeline = [e["type"] for e in first.booking_view(booking)["timeline"]]
    assert timeline.count("DetainerHoldLapsed") == 1 and timeline.count("PersonReleased") == 1


@pytest.mark.parametrize("first_to_lock", ["cancellation", "timers"])
def test_a_hold_due_when_its_cancellation_arrives_lapses_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_to_lock: str
) -> None:
    """A cancellation arriving after the hold's limit lapses the hold at that limit, as the timers
    would. Whichever of the two reaches the write lock second finds the hold lapsed already and
    lapses nothing: a second lapse would tell the federal side twice (the cancellation reads the hold
    under the same lock as the timers, found by a review)."""
    timers, federal, clock, booking, request = _held_past_the_limit(tmp_path, "RACE-2")
    cancel = CancelIn.model_validate({"at": clock.now().isoformat(), "reason": "no longer sought"})
    original, raced = db.lock_for_writing, []

    def the_other_goes_first(connection: Any) -> None:
        if raced:
            pass
        elif first_to_lock == "cancellation":  # the tick has read the hold as due
            raced.append(True)
            federal.cancel(request, cancel)
        elif sys._getframe(1).f_code.co_name == "_active_hold_of":  # the agency applies the cancellation
            raced.append(True)
            timers.tick()
        original(connection)

    monkeypatch.setattr(db, "lock_for_writing", the_other_goes_first)
    if first_to_lock == "cancellation":
        assert timers.tick() == []
    else:
        federal.cancel(request, cancel)
    assert raced
    timeline = timers.booking_view(booking)["timeline"]
    types = [e["type"] for e in timeline]
    assert types.count("DetainerHoldLapsed") == 1 and types.count("PersonReleased") == 1
    released = next(e for e in timeline if e["type"] == "PersonReleased")
    assert released["data"]["reason"] == "hold_lapsed"  # at the limit, 48 hours after 9:00 on the 5th
    assert datetime.fromisoformat(released["occurred_at"]) == datetime.fromisoformat("2017-10-07T09:00:00-05:00")
    with timers.unit() as unit:  # the cancellation was applied, none of it dead-lettered
        withdrawn = unit.session.scalars(
            select(EventRow.data).where(EventRow.aggregate_id == request, EventRow.type == "RequestWithdrawn")
        ).all()
        assert unit.session.scalars(select(DeadLetterRow.reason)).all() == []
    assert withdrawn == [{"reason": "no longer sought", "after": "lapsed"}]  # recorded beside the lapse
