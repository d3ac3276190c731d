"""A clock kept in the store, shared by every process that opens it: the chaos command and tests
move it forward, and every worker sees the same "now", so 48 hours pass in seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from custody.domain.clock import as_utc
from custody.store.models import ClockRow

NAME = "simulation"


class StoredClock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def now(self) -> datetime:
        with Session(self._engine) as session:
            row = session.get(ClockRow, NAME)
            if row is None:
                raise RuntimeError("the stored clock is not set; set it with StoredClock.set (the chaos command does)")
            return row.now

    def set(self, moment: datetime) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.get(ClockRow, NAME)
            if row is None:
                session.add(ClockRow(name=NAME, now=as_utc(moment)))
            else:
                row.now = as_utc(moment)

    def advance(self, delta: timedelta) -> datetime:
        moment = self.now() + delta
        self.set(moment)
        return moment
