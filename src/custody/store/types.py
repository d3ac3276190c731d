"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: custody stores only aware times")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """SQLite's DATETIME text, ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC: the format SQLAlchemy's own
    processor writes (so stores written before read and sort the same), made by one C call instead
    of a %-format of seven fields, and remembered: every timestamp of every row passes here, and the
    rows of a transaction share few moments (96 % of them seen before in the benchmark; issue 8)."""
    if value is None:
        return None
    return _utc_text(value)


@lru_cache(maxsize=4096, typed=True)
def _utc_text(value: datetime) -> str:
    # Equal aware datetimes are the same instant, so the same UTC text; a naive one equals none of
    # them, and is refused by ``_utc`` before anything is remembered.
    return _utc(value).isoformat(" ", "microseconds")[:-6]  # without the "+00:00"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes in UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
