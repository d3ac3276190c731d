"""Two workers running the hold timers at once lapse a hold once: on SQLite the second finds the hold
already lapsed once it holds the write lock (the chaos run once counted a hold lapsed twice)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn
from custody.requests.commands import ResponseIn, ServeIn
from custody.service import Custody
from custody.store import db
from tests.release.test_release_all import _book, _detainer


def test_a_hold_due_for_two_workers_lapses_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'custody.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    clock = ManualClock(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    first, second = Custody(engine, clock, actor="worker-1"), Custody(db.make_engine(url), clock, actor="worker-2")
    booking = _book(first, "RACE-1")
    request = _detainer(first, booking)
    first.serve(request, ServeIn(at=datetime.fromisoformat("2017-10-05T02:30:00-05:00")))
    first.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    first.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    clock.advance(timedelta(hours=72))

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
