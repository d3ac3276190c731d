"""Hash chains: each entry's hash covers its content and the previous entry's hash, so altering,
deleting or reordering any entry breaks every hash after it.

One chain per agency: writers of different agencies lock different chain heads and never wait for
each other; the head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL, the database lock on
SQLite) so two writers of one agency cannot fork its chain. A transaction reads each head once and
writes it back once, however many entries it adds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from custody.domain.clock import isoformat
from custody.store import db
from custody.store.json_text import EncodedJSON
from custody.store.models import AuditChainRow, AuditEntryRow, Base

GENESIS = "0" * 64
HEADS = Base.metadata.tables["audit_chains"]
HEADS_OF = (
    select(HEADS.c.chain, HEADS.c.head_seq, HEADS.c.head_hash)
    .where(HEADS.c.chain.in_(bindparam("chains", expanding=True)))
    .order_by(HEADS.c.chain)
    .with_for_update()
)
NEW_HEADS = insert(HEADS)
MOVE_HEADS = (
    update(HEADS)
    .where(HEADS.c.chain == bindparam("moved"))
    .values(head_seq=bindparam("seq"), head_hash=bindparam("hash"))
)


# Built once: ``json.dumps`` with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode
_STRING = json.JSONEncoder(ensure_ascii=False).encode


def canonical(value: Any) -> str:
    return _CANONICAL(value)


def entry_hash(
    prev_hash: str, seq: int, recorded_at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> str:
    return _hash(prev_hash, seq, recorded_at, actor, action, subject, canonical(data))


def _hash(prev_hash: str, seq: int, recorded_at: datetime, actor: str, action: str, subject: str, data: str) -> str:
    """The SHA-256 of the entry's canonical form, its keys sorted, ``data`` given already canonical:
    the same text as ``canonical`` of the whole entry, without encoding the data a second time."""
    text = _STRING
    body = (
        f'{{"action":{text(action)},"actor":{text(actor)},"at":{text(isoformat(recorded_at))},"data":{data},'
        f'"prev":{text(prev_hash)},"seq":{seq:d},"subject":{text(subject)}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """A chain's head as this transaction sees it. Read (and locked) once, replaced in memory by each
    entry, and written back once when the unit of work ends (``write_heads``). Never changed in
    place, so a savepoint's mark is a plain copy of the mapping, whatever the number of chains."""

    seq: int
    hash: str
    stored_seq: int | None  # the stored head's seq; None while the chain has no head row


def _heads(session: Session) -> dict[str, Head]:
    heads: dict[str, Head] = session.info.setdefault("audit_heads", {})
    return heads


def seal(session: Session, entries: list[dict[str, Any]]) -> None:
    """Give each of these entries, in their order, its place on its chain: sequence, previous hash
    and hash. The unit of work calls this as it writes them, just before its commit, so the heads
    are read and locked for the inserts and the commit only, not from a command's first event to
    its end (under load the servers waited on that lock a third of their time; issue 9)."""
    read_heads(session, (entry["chain"] for entry in entries))
    heads = _heads(session)
    for entry in entries:
        head = heads[entry["chain"]]
        seq = head.seq + 1
        digest = _hash(
            head.hash, seq, entry["recorded_at"], entry["actor"], entry["action"], entry["subject"], entry["data"]
        )
        entry.update(seq=seq, prev_hash=head.hash, hash=digest)
        heads[entry["chain"]] = Head(seq, digest, head.stored_seq)


def unsealed(
    *, chain: str, recorded_at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> dict[str, Any]:
    """An entry's content, its data in the canonical text that is hashed and stored, waiting for
    ``seal`` to give it its place on the chain."""
    return {
        "chain": chain,
        "recorded_at": recorded_at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": EncodedJSON(canonical(data)),
    }


def read_heads(session: Session, chains: Iterable[str]) -> None:
    """Read and lock, in one query and in the chains' order, the heads of these chains this
    transaction has not read yet: a command that records on many agencies' chains (a batch) pays one
    round trip, and two such commands always lock shared chains in the same order."""
    heads = _heads(session)
    wanted = sorted({chain for chain in chains if chain not in heads})
    if not wanted:
        return
    connection = session.connection()
    db.lock_for_writing(connection)
    stored = {chain: (seq, digest) for chain, seq, digest in connection.execute(HEADS_OF, {"chains": wanted})}
    for chain in wanted:
        seq, digest = stored.get(chain, (None, GENESIS))
        heads[chain] = Head(seq or 0, digest, seq)


def write_heads(session: Session) -> None:
    """Store every head this transaction moved: new chains in one INSERT, the others in one UPDATE."""
    heads = _heads(session)
    new = [
        {"chain": chain, "head_seq": h.seq, "head_hash": h.hash} for chain, h in heads.items() if h.stored_seq is None
    ]
    moved = [
        {"moved": chain, "seq": h.seq, "hash": h.hash}
        for chain, h in heads.items()
        if h.stored_seq is not None and h.seq != h.stored_seq
    ]
    connection = session.connection()
    if new:
        connection.execute(NEW_HEADS, new)
    if moved:
        connection.execute(MOVE_HEADS, moved)
    for chain, head in heads.items():
        heads[chain] = Head(head.seq, head.hash, head.seq)


def mark_heads(session: Session) -> dict[str, Head]:
    """The heads as they are now, for ``restore_heads`` when a savepoint rolls back."""
    return dict(_heads(session))


def restore_heads(session: Session, mark: dict[str, Head]) -> None:
    session.info["audit_heads"] = mark


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
        # The hash is checked over the data's text as stored, which is the canonical text it was
        # computed over (both stores keep a JSON column's text as written): read back and encoded
        # again, an entry edited to carry a key twice read as the original (found by a review).
        of_chain = (
            select(AuditEntryRow, cast(AuditEntryRow.data, Text).label("stored_text"))
            .where(AuditEntryRow.chain == chain)
            .order_by(AuditEntryRow.seq)
        )
        try:
            rows = list(session.execute(of_chain))
        except _UNREADABLE as unreadable:
            if isinstance(unreadable, OperationalError) and session.get_bind().dialect.name != "sqlite":
                raise  # PostgreSQL keeps its columns' types: this is the store failing, not an entry
            # A value that cannot be read back (a time or JSON edited in place: SQLite keeps what it
            # is given) is a change too; locate it rather than fail the whole check (found by a review).
            reports.append(_unreadable(session, chain, unreadable))
            continue
        for row, stored in rows:
            count += 1  # every entry of the chain, so the report says how long it is, not how far it got
            if problem is not None:
                continue
            if row.seq != expected_seq:
                problem = (expected_seq, f"entry {expected_seq} is missing (next present is {row.seq})")
            elif row.prev_hash != prev:
                problem = (
                    row.seq,
                    f"entry {row.seq} does not follow entry {row.seq - 1} (entries reordered or removed)",
                )
            elif not _sealed_as_stored(row, stored):
                problem = (row.seq, f"entry {row.seq} was altered after it was written")
            else:
                prev, expected_seq = row.hash, expected_seq + 1
        head = heads.get(chain)
        if problem is None and head is None and count:
            # Every unit of work that writes an entry writes its chain's head: a chain without one
            # lost it afterwards, and with it the check that its last entries are all there.
            problem = (expected_seq, f"the chain's head is missing (deleted); entries after {count} may be missing")
        if problem is None and head is not None and (head.head_seq != expected_seq - 1 or head.head_hash != prev):
            problem = (
                expected_seq,
                f"the chain ends at entry {expected_seq - 1} but its head says {head.head_seq}: entries were deleted",
            )
        reports.append(
            ChainReport(chain, count, problem is None, problem[0] if problem else None, problem[1] if problem else None)
        )
    return reports


def _sealed_as_stored(row: AuditEntryRow, stored: str) -> bool:
    """The entry's hash covers its data as stored. Entries written before 6 December 2026 stored the
    data as ``json.dumps`` lays it out, while the hash covered its canonical text (found by a code
    review: every chain of such a store read as altered): those are accepted only if the stored text
    is exactly that layout of the value it holds, which a key written twice is not."""
    fields = (row.prev_hash, row.seq, row.recorded_at, row.actor, row.action, row.subject)
    if row.hash == _hash(*fields, stored):
        return True
    return stored == json.dumps(row.data) and row.hash == _hash(*fields, canonical(row.data))


# What SQLite, which keeps any value in any column, gives back for a time or a JSON text edited into
# something else: a time that is not one, text that is not JSON or not UTF-8, a number for a time.
_UNREADABLE = (ValueError, TypeError, OperationalError)


def _unreadable(session: Session, chain: str, error: Exception) -> ChainReport:
    """The report of a chain one of whose entries cannot be read: the first such entry, found by
    reading the entries one by one (only on this path, so the usual check stays one query)."""
    of_chain = select(AuditEntryRow.seq).where(AuditEntryRow.chain == chain).order_by(AuditEntryRow.seq)
    seqs = list(session.scalars(of_chain))
    for seq in seqs:
        try:
            session.execute(
                select(AuditEntryRow, cast(AuditEntryRow.data, Text).label("stored_text")).where(
                    AuditEntryRow.chain == chain, AuditEntryRow.seq == seq
                )
            ).one()
        except _UNREADABLE as found:
            problem = f"entry {seq} cannot be read ({found}): it was altered after it was written"
            return ChainReport(chain, len(seqs), False, seq, problem)
    return ChainReport(chain, len(seqs), False, None, f"an entry could not be read ({error}) and then could")
