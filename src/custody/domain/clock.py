"""Injectable time.

Every deadline in custody (a 48-hour hold, an advance notice) is computed from a clock the caller
chooses, so tests and simulations can run two days of custody in milliseconds and the production
process uses the wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
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
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # a ValueError, so that input validation reports it as one
        raise ValueError(f"time {moment.isoformat()} is out of range; check the year") from None


def isoformat(moment: datetime) -> str:
    """``moment.isoformat()``, remembered for the last few thousand moments. Python 3.11 formats a
    datetime through C's positional printf, ≈ 2 µs a call on these machines, and one moment is
    formatted many times over (an event's time, its audit entry's, its message's): issue 8."""
    return _isoformat(moment, moment.utcoffset())


@lru_cache(maxsize=4096, typed=True)
def _isoformat(moment: datetime, offset: timedelta | None) -> str:
    # Two equal aware datetimes are the same instant, possibly in two zones: with the offset in the
    # key, the same instant at the same offset, whose text is the same.
    return moment.isoformat()


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time with an offset (``2017-08-16T09:30:00-05:00`` or ``...Z``), as typed
    on the command line: a refusal says what to write instead."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{text}' is not an ISO 8601 time such as 2017-08-16T09:30:00-05:00") from None
    try:
        return as_utc(moment)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def parse_day(text: str, what: str = "date") -> date:
    """Parse a calendar date (``2017-08-16``), naming the option or field when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date; write YYYY-MM-DD") from None
