"""Retention: personal data deleted when the deployment's records schedule says it is no longer kept.

custody ships **no retention periods**. How long a jail keeps a released person's fingerprints, or
how long a stored response or an ad hoc decision may be kept, is set by the agency's records
retention schedule (state law, the county's schedule, the CSA's rules), not by this software. The
deployment writes those periods into a schedule file, each with the authority it comes from; a
period without an authority is refused, as a rule without a citation is refused by the law loader.
With no schedule file, nothing is ever due.

What each record class covers (the only data custody deletes):

- ``unidentified_prints``: finger images of a person who left custody without ever being
  identified against the federal repository, counted from the day they left;
- ``released_prints``: finger images of anyone who left custody, counted from the day they left;
- ``adhoc_decisions``: decisions run on facts typed into the law browser or ``POST /law/decide``,
  tied to no request, counted from when they were logged;
- ``stored_responses``: responses kept for ``Idempotency-Key`` replays (copies of booking views);
- ``dead_letters``: messages refused by the exchange, kept with their reason.

What is never deleted: bookings, requests, decisions on requests, holds, events and the audit
chains, because deleting an audit entry breaks every hash after it and the CJIS Security Policy
asks that transaction logs be kept (docs/security.md). Each deletion is itself written to the
``retention`` audit chain: which class, how many rows, which ids, under which authority.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Select, delete, select

from custody.domain.errors import InvalidInput
from custody.store.models import (
    BookingRow,
    DeadLetterRow,
    DecisionRow,
    FingerprintImageRow,
    IdempotencyKeyRow,
)
from custody.store.unit import Unit

SCHEDULE_ENV = "CUSTODY_RETENTION_SCHEDULE"
CHAIN = "retention"
ACTION = "RecordsDeleted"
_LISTED = 50  # ids named in a report and its audit entry; the count is always whole


def _unidentified_prints(cutoff: datetime) -> Select[Any]:
    return select(FingerprintImageRow.id).where(
        FingerprintImageRow.booking_id.in_(
            select(BookingRow.id).where(BookingRow.identity_id.is_(None), BookingRow.left_custody_at < cutoff)
        )
    )


def _released_prints(cutoff: datetime) -> Select[Any]:
    return select(FingerprintImageRow.id).where(
        FingerprintImageRow.booking_id.in_(select(BookingRow.id).where(BookingRow.left_custody_at < cutoff))
    )


@dataclass(frozen=True)
class RecordClass:
    name: str
    what: str
    table: Any  # the row class whose rows are deleted
    key: Any  # its primary key column
    due: Callable[[datetime], Select[Any]]  # the keys of rows older than the cutoff


CLASSES: dict[str, RecordClass] = {
    c.name: c
    for c in (
        RecordClass(
            "unidentified_prints",
            "finger images of people who left custody never identified",
            FingerprintImageRow,
            FingerprintImageRow.id,
            _unidentified_prints,
        ),
        RecordClass(
            "released_prints",
            "finger images of people who left custody",
            FingerprintImageRow,
            FingerprintImageRow.id,
            _released_prints,
        ),
        RecordClass(
            "adhoc_decisions",
            "decisions tied to no federal request",
            DecisionRow,
            DecisionRow.id,
            lambda cutoff: select(DecisionRow.id).where(
                DecisionRow.request_id.is_(None), DecisionRow.recorded_at < cutoff
            ),
        ),
        RecordClass(
            "stored_responses",
            "responses kept for Idempotency-Key replays",
            IdempotencyKeyRow,
            IdempotencyKeyRow.key,
            lambda cutoff: select(IdempotencyKeyRow.key).where(IdempotencyKeyRow.created_at < cutoff),
        ),
        RecordClass(
            "dead_letters",
            "messages the exchange refused",
            DeadLetterRow,
            DeadLetterRow.id,
            lambda cutoff: select(DeadLetterRow.id).where(DeadLetterRow.at < cutoff),
        ),
    )
}


@dataclass(frozen=True)
class Period:
    record_class: str
    days: int
    authority: str  # the records schedule item that sets the period


def load_schedule(path: Path | None = None) -> list[Period]:
    """The deployment's periods, from ``path`` or ``$CUSTODY_RETENTION_SCHEDULE``; none if unset.

    The file is YAML: ``periods: {CLASS: {days: N, authority: "schedule and item"}}``."""
    if path is None:
        configured = os.environ.get(SCHEDULE_ENV)
        if not configured:
            return []
        path = Path(configured)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"retention schedule {path}: cannot read it ({exc})") from None
    periods = document.get("periods") if isinstance(document, dict) else None
    if not isinstance(periods, dict):
        raise InvalidInput(f"retention schedule {path}: expected 'periods:' mapping record classes to days")
    out = []
    for name, period in periods.items():
        if name not in CLASSES:
            raise InvalidInput(f"retention schedule {path}: unknown record class '{name}'; known: {', '.join(CLASSES)}")
        if not isinstance(period, dict):
            raise InvalidInput(f"retention schedule {path}: {name}: expected 'days' and 'authority'")
        days, authority = period.get("days"), period.get("authority")
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise InvalidInput(f"retention schedule {path}: {name}: 'days' must be a whole number of days, 0 or more")
        if not isinstance(authority, str) or not authority.strip():
            raise InvalidInput(
                f"retention schedule {path}: {name}: name the records schedule item that sets this period "
                "('authority'); custody sets no period of its own"
            )
        out.append(Period(str(name), days, authority.strip()))
    return out


@dataclass(frozen=True)
class Outcome:
    record_class: str
    what: str
    days: int
    authority: str
    cutoff: str
    due: int
    deleted: int
    ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def apply(unit: Unit, periods: list[Period], now: datetime, actor: str, dry_run: bool) -> list[Outcome]:
    """Find (and unless ``dry_run``, delete) every row past its period, in the unit's transaction;
    each deletion is recorded on the ``retention`` audit chain."""
    session = unit.session
    outcomes = []
    for period in periods:
        kind = CLASSES[period.record_class]
        cutoff = now - timedelta(days=period.days)
        keys = list(session.scalars(kind.due(cutoff)))
        if keys and not dry_run:
            session.execute(delete(kind.table).where(kind.key.in_(keys)))
            unit.record(
                CHAIN,
                recorded_at=now,
                actor=actor,
                action=ACTION,
                subject=kind.name,
                data={
                    "count": len(keys),
                    "ids": [str(k) for k in keys[:_LISTED]],
                    "days": period.days,
                    "authority": period.authority,
                    "cutoff": cutoff.isoformat(),
                },
            )
        outcomes.append(
            Outcome(
                kind.name,
                kind.what,
                period.days,
                period.authority,
                cutoff.isoformat(),
                len(keys),
                0 if dry_run else len(keys),
                [str(k) for k in keys[:_LISTED]],
            )
        )
    return outcomes
