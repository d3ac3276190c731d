"""Injectable time.

Every deadline in custody (a 48-hour hold, an advance notice) is computed from a clock the caller
chooses, so tests and simulations can run two days of custody in milliseconds and the production
process uses the wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from custody.domain.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: the test's and the simulator's clock."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = as_utc(moment)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are refused: a custody record without a time zone cannot be checked later."""
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no time zone; give an offset such as Z or -05:00")
    return moment.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time with an offset (``2017-08-16T09:30:00-05:00`` or ``...Z``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not an ISO 8601 time such as 2017-08-16T09:30:00-05:00") from exc
    return as_utc(moment)


def parse_day(text: str, what: str = "date") -> date:
    """Parse a calendar date (``2017-08-16``), naming the option or field when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date; write YYYY-MM-DD") from None
