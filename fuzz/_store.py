"""A small store with the seed scenarios in it, the same on every run: ids are drawn from a seeded
generator instead of uuid4, so the seed envelopes in fuzz/corpus/worker_apply name bookings and
requests that exist in the store the worker harness applies them to."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from pathlib import Path
from unittest import mock

from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store import db

CLOCK_AT = "2017-09-01T08:00:00-05:00"


def scenario_store(path: Path) -> Custody:
    """Migrate a SQLite store at ``path`` and play the three seed scenarios into it."""
    rng = random.Random(9)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    custody = Custody(engine, ManualClock(datetime.fromisoformat(CLOCK_AT)), actor="fuzz")
    with mock.patch("uuid.uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4)):
        seed_scenarios.chicago_then_cook(custody)
        seed_scenarios.miami_dade_transferred(custody)
        seed_scenarios.miami_dade_lapsed(custody)
    return custody
