"""Domain events: every step of the process is one, named ``<Aggregate><PastVerb>``.

``occurred_at`` is when the people involved say it happened (the booking time, the time bail was
posted); ``recorded_at`` is when custody heard of it. Both are kept because a hold clock runs from
the first while an audit is judged by the second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FEDERAL = "federal"


def local_party(division_id: str) -> str:
    return f"local:{division_id}"


@dataclass(frozen=True)
class Event:
    type: str
    aggregate: str
    aggregate_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    # The party the event must reach across the exchange ("federal" or "local:<division>"), or
    # None for an event that stays inside the agency that recorded it.
    to_party: str | None = None
