"""Hash chains: each entry's hash covers its content and the previous entry's hash, so altering,
deleting or reordering any entry breaks every hash after it.

One chain per agency: writers of different agencies lock different chain heads and never wait for
each other; the head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL, the database lock on
SQLite) so two writers of one agency cannot fork its chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody.store.models import AuditChainRow, AuditEntryRow

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def entry_hash(
    prev_hash: str, seq: int, recorded_at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> str:
    body = canonical(
        {
            "prev": prev_hash,
            "seq": seq,
            "at": recorded_at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session, chain: str, *, recorded_at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> AuditEntryRow:
    # The head is locked once per transaction and kept for the transaction's later entries.
    heads: dict[str, AuditChainRow] = session.info.setdefault("audit_heads", {})
    head = heads.get(chain)
    if head is None or head not in session:  # not yet read, or dropped by a rolled-back savepoint
        head = session.execute(
            select(AuditChainRow).where(AuditChainRow.chain == chain).with_for_update()
        ).scalar_one_or_none()
        if head is None:
            head = AuditChainRow(chain=chain, head_seq=0, head_hash=GENESIS)
            session.add(head)
        heads[chain] = head
    seq = head.head_seq + 1
    data = json.loads(canonical(data))  # what is hashed is exactly what is stored
    digest = entry_hash(head.head_hash, seq, recorded_at, actor, action, subject, data)
    entry = AuditEntryRow(
        chain=chain,
        seq=seq,
        recorded_at=recorded_at,
        actor=actor,
        action=action,
        subject=subject,
        data=data,
        prev_hash=head.head_hash,
        hash=digest,
    )
    session.add(entry)
    head.head_seq, head.head_hash = seq, digest
    return entry


@dataclass(frozen=True)
class ChainReport:
    chain: str
    entries: int
    ok: bool
    first_broken: int | None = None
    problem: str | None = None


def verify(session: Session) -> list[ChainReport]:
    """Check every chain from its first entry; name the first entry that does not fit."""
    reports = []
    heads = {h.chain: h for h in session.scalars(select(AuditChainRow))}
    chains = sorted(set(heads) | set(session.scalars(select(AuditEntryRow.chain).distinct())))
    for chain in chains:
        prev, expected_seq, count = GENESIS, 1, 0
        problem: tuple[int, str] | None = None
        rows = session.scalars(select(AuditEntryRow).where(AuditEntryRow.chain == chain).order_by(AuditEntryRow.seq))
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                problem = (expected_seq, f"entry {expected_seq} is missing (next present is {row.seq})")
                break
            if row.prev_hash != prev:
                problem = (
                    row.seq,
                    f"entry {row.seq} does not follow entry {row.seq - 1} (entries reordered or removed)",
                )
                break
            digest = entry_hash(row.prev_hash, row.seq, row.recorded_at, row.actor, row.action, row.subject, row.data)
            if digest != row.hash:
                problem = (row.seq, f"entry {row.seq} was altered after it was written")
                break
            prev, expected_seq = row.hash, expected_seq + 1
        head = heads.get(chain)
        if problem is None and head is not None and (head.head_seq != expected_seq - 1 or head.head_hash != prev):
            problem = (
                expected_seq,
                f"the chain ends at entry {expected_seq - 1} but its head says {head.head_seq}: entries were deleted",
            )
        reports.append(
            ChainReport(chain, count, problem is None, problem[0] if problem else None, problem[1] if problem else None)
        )
    return reports
