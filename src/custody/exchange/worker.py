"""Applying messages: the idempotent inbox, retries, dead letters, and the in-process transport.

A message is applied in one transaction with its inbox row, so a message delivered twice has its
effect once. A message that can never apply (bad envelope, unknown type or version, data failing its
schema, an unknown booking, a refusal by the domain, a fault of its handler) goes to the dead-letter
store with the reason. An error of the store (a lock, a lost connection) is retried with backoff, up
to MAX_ATTEMPTS, and the last one is kept as the dead letter's reason.

The in-process transport is the outbox itself: each message has a delivery row that one worker of
the receiving party claims under a lease. A worker killed mid-message never commits; its lease runs
out and another worker takes the message. Applied in the process that sent them (``drain``), a
batch is read, applied and deleted in one transaction, and takes the leased way only when that fails.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, Select, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from custody.domain.errors import CustodyError
from custody.domain.events import FEDERAL
from custody.exchange.envelope import MAX_PARTY, Message, MessageRefused, parse
from custody.exchange.handlers import HANDLERS
from custody.service import Custody
from custody.store.db import describe
from custody.store.models import Base, DeadLetterRow, DeliveryRow, InboxRow, MessageRow
from custody.store.unit import Unit

log = logging.getLogger("custody.exchange")
# How long a claimed message stays with the worker that took it before another may take it over.
LEASE = timedelta(seconds=float(os.environ.get("CUSTODY_LEASE_SECONDS", "30")))
MAX_ATTEMPTS = 8
EVERY_LOCAL = "local:*"
EVERY_PARTY = (FEDERAL, EVERY_LOCAL)
INBOX = Base.metadata.tables["inbox"]
# A batch's statements, built once (issue 8: built at each batch, each paid for its cache key too).
APPLIED_ALREADY = select(INBOX.c.party, INBOX.c.message_id).where(
    INBOX.c.message_id.in_(bindparam("ids", expanding=True))
)
RECORD_APPLIED = insert(INBOX)
LEAVE_QUEUE = delete(DeliveryRow).where(DeliveryRow.message_id.in_(bindparam("ids", expanding=True)))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def party_filter(party: str) -> Callable[[Any], ColumnElement[bool]]:
    """``federal``, ``local:<division>``, or ``local:*`` for every local agency: a range of the
    party column rather than ``LIKE 'local:%'``, which neither SQLite (case-insensitive LIKE) nor
    PostgreSQL (without a pattern index) can answer from an index, so every claim read the whole
    delivery table, and slowed as it grew."""
    if party.endswith(":*"):
        low, high = _parties_range(party)
        return lambda column: and_(column >= low, column < high)
    return lambda column: column == party


def _parties_range(wildcard: str) -> tuple[str, str]:
    """``local:*`` as the range [``local:``, ``local;``): the first string past every "local:…"."""
    prefix = wildcard[:-1]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Outcome:
    applied = "applied"
    duplicate = "duplicate"
    dead = "dead"


def apply(custody: Custody, party: str, raw: str, message_id: str | None = None) -> str:
    """Apply one raw envelope for ``party`` in its own transaction (the NATS transport's unit)."""
    with custody.unit() as unit:
        return apply_in(unit, party, raw, message_id)


def apply_in(unit: Unit, party: str, raw: str, message_id: str | None = None) -> str:
    """Apply one raw envelope inside ``unit``, under a savepoint: its effect, inbox row and delivery
    state commit together with the unit, and a refusal rolls back only this message, which goes to
    the dead-letter store. So does a message whose handler raised anything else than the store's
    errors: a fault of custody's with this one message, which applying again cannot mend (found by a
    review: it failed its batch, and in the one-process mode every command after it). An error of
    the store (a lost connection, a lock) propagates: nothing of the unit commits, and the message
    comes back."""
    message = _readable(unit, party, raw, message_id)
    if message is None:
        return Outcome.dead
    if unit.session.get(InboxRow, (message.to_party, message.id)) is not None:
        _delivered(unit, [message.id])
        return Outcome.duplicate
    try:
        with unit.savepoint():
            HANDLERS[message.type.type](unit, [message])
            unit.session.add(InboxRow(party=message.to_party, message_id=message.id, applied_at=datetime.now(UTC)))
            unit.session.flush()
    except IntegrityError:
        _delivered(unit, [message.id])
        return Outcome.duplicate  # another worker applied it first, in its own transaction
    except CustodyError as exc:
        _dead_letter(unit, party, message.id, raw, exc.detail)
        return Outcome.dead
    except SQLAlchemyError:
        raise
    except Exception as exc:
        logged = f"{type(exc).__name__} in its handler (the dead letter keeps the error's message)"
        _dead_letter(unit, party, message.id, raw, describe(exc), logged)
        return Outcome.dead
    _delivered(unit, [message.id])
    return Outcome.applied


def _readable(unit: Unit, party: str, raw: str, message_id: str | None) -> Message | None:
    """The message, or None once it is dead-lettered as unreadable or addressed to another party."""
    try:
        message = parse(raw)
    except MessageRefused as exc:
        _dead_letter(unit, party, message_id, raw, exc.reason, exc.logged)
        return None
    if not _addressed_to(message, party):
        _dead_letter(unit, party, message.id, raw, f"addressed to {message.to_party}, not {party}")
        return None
    return message


def _addressed_to(message: Message, party: str) -> bool:
    return party == message.to_party or (party.endswith(":*") and message.to_party.startswith(party[:-1]))


def _delivered(unit: Unit, message_ids: list[str]) -> None:
    """The messages leave their queue: applied (or found applied), their inbox rows say so. Keeping
    the delivery rows of applied messages only grew the store (issue 8: 3.7 % of a simulated one)."""
    unit.session.connection().execute(LEAVE_QUEUE, {"ids": message_ids})


def _dead_letter(
    unit: Unit, party: str, message_id: str | None, raw: str, reason: str, logged: str | None = None
) -> None:
    """Keep the message and the whole reason; log ``logged`` instead of the reason where the reason
    quotes the message's values, which may be personal data (found by a review)."""
    log.warning("dead letter for %s (%s): %s", party, message_id, logged or reason)
    if message_id is not None and len(message_id) > 80:
        message_id = None  # too long to be one of ours; the raw envelope keeps it
    # A party named by an envelope's toparty (the NATS transport) may be too long to be one of ours
    # too (found by a review: 300 characters, and the dead letter itself failed on PostgreSQL).
    party = party[:MAX_PARTY]
    unit.session.add(DeadLetterRow(party=party, message_id=message_id, raw=raw, reason=reason, at=datetime.now(UTC)))
    if message_id:
        unit.session.execute(
            update(DeliveryRow).where(DeliveryRow.message_id == message_id).values(state="dead", last_error=reason)
        )


Claimed = tuple[str | None, str, int, str]  # (message id if known, party, attempts so far, raw envelope)


def claim(custody: Custody, party: str, me: str, limit: int = 50) -> list[Claimed]:
    """Lease up to ``limit`` pending deliveries of ``party``, oldest first: (id, party, attempts, envelope).
    The lease and the attempt are committed before the messages are applied, so a message that
    kills its worker every time is still counted, and dead-lettered after MAX_ATTEMPTS."""
    now = datetime.now(UTC)
    with custody.unit() as unit:
        # Core statements on the unit's connection: nothing of the ORM's is needed here (issue 8).
        connection = unit.session.connection()
        rows = _pending(connection, party, limit, now)
        if rows:
            connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.message_id.in_([r[0] for r in rows]))
                .values(lease_until=now + LEASE, claimed_by=me, attempts=DeliveryRow.attempts + 1)
            )
    return rows


def _pending(connection: Connection, party: str, limit: int, now: datetime) -> list[Claimed]:
    """Up to ``limit`` deliveries of ``party`` no worker holds a lease on, oldest first; on
    PostgreSQL locked until the transaction ends, and skipped by every other worker meanwhile."""
    query = _pending_query(party.endswith(":*"), connection.dialect.name == "postgresql")
    if party.endswith(":*"):
        parties = dict(zip(("low", "high"), _parties_range(party), strict=True))
    else:
        parties = {"party": party}
    return [tuple(r) for r in connection.execute(query, {**parties, "now": now, "limit": limit})]  # type: ignore[misc]


@cache
def _pending_query(wildcard: bool, postgresql: bool) -> Select[str, str, int, str]:
    """The claim's query, built once for each shape (one party or a range of them; PostgreSQL's row
    locks or not) rather than at every claim: building it was a tenth of the claim's time."""
    matches = (
        and_(DeliveryRow.party >= bindparam("low"), DeliveryRow.party < bindparam("high"))
        if wildcard
        else DeliveryRow.party == bindparam("party")
    )
    now = bindparam("now", type_=DeliveryRow.lease_until.type)
    query = (
        select(DeliveryRow.message_id, DeliveryRow.party, DeliveryRow.attempts, MessageRow.envelope)
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(matches, DeliveryRow.state == "pending")
        .where(or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now))
        .order_by(DeliveryRow.seq)
        .limit(bindparam("limit", type_=Integer))
    )
    return query.with_for_update(skip_locked=True, of=DeliveryRow) if postgresql else query


def take(custody: Custody, party: str, me: str, limit: int) -> tuple[int, set[str]]:
    """Take up to ``limit`` of ``party``'s messages and apply them, in this process; return how many
    were taken and the parties the applied messages queued deliveries for.

    First in one transaction: read the deliveries, apply them, delete them, commit once — no lease
    written and committed beforehand, then rewritten when the messages leave (issue 8). Nothing is
    lost if the process dies meanwhile: the transaction never commits and the deliveries stay
    pending. If anything goes wrong (a refused message, another process's worker applying one of them
    first, a lock), the batch takes the worker's careful path instead: a committed lease and attempt
    (``claim``), then ``apply_all``, which dead-letters a refused message alone."""
    try:
        with custody.unit() as unit:
            batch = _pending(unit.session.connection(), party, limit, datetime.now(UTC))
            if batch:
                apply_batch(unit, batch, me)
        return len(batch), unit.recipients
    except Exception:  # a refusal, a duplicate, a lock, or a handler's fault with one message
        log.debug("the batch of %s goes the careful way", party, exc_info=True)
    batch = claim(custody, party, me, limit)
    return len(batch), _apply_claimed(custody, batch, me) if batch else set()


def process(custody: Custody, party: str, me: str | None = None, limit: int = 50) -> int:
    """Claim one batch for ``party`` and apply it in one transaction; return how many were taken."""
    me = me or worker_id()
    batch = claim(custody, party, me, limit)
    if batch:
        _apply_claimed(custody, batch, me)
    return len(batch)


def _apply_claimed(custody: Custody, batch: list[Claimed], me: str) -> set[str]:
    """``apply_all``; if it fails, the error is kept on the batch's deliveries, so that the dead letter
    of a message that fails every attempt says why (found by a review: it read only "failed 8 times;
    last tried by w1")."""
    try:
        return apply_all(custody, batch, me)
    except Exception as exc:
        with custody.unit() as unit:
            unit.session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.message_id.in_([message_id for message_id, *_ in batch]))
                .values(last_error=describe(exc))
            )
        raise


def apply_all(custody: Custody, batch: list[Claimed], me: str) -> set[str]:
    """Apply a batch in one transaction; return the parties its messages queued new deliveries for.
    It is first applied whole (``apply_batch``); if that fails (a message refused, or applied
    meanwhile by another worker, or one whose handler failed), that transaction rolls back and the
    batch is applied again one savepoint per message (``apply_in``), so that the failing message
    alone goes to the dead-letter store."""
    try:
        with custody.unit() as unit:
            apply_batch(unit, batch, me)
        return unit.recipients
    except Exception:
        with custody.unit() as unit:
            for message_id, to_party, attempts, raw in batch:
                if attempts >= MAX_ATTEMPTS:
                    _dead_letter(unit, to_party, message_id, raw, _exhausted(unit, message_id, attempts, me))
                else:
                    apply_in(unit, to_party, raw, message_id)
        return unit.recipients


def exhausted(attempts: int, me: str, error: str | None) -> str:
    """A dead letter's reason for a message that failed every attempt, with the last error if known."""
    reason = f"failed {attempts} times; last tried by {me}"
    return f"{reason}: {error}" if error else reason


def _exhausted(unit: Unit, message_id: str | None, attempts: int, me: str) -> str:
    """``exhausted`` with the last error kept on the message's delivery (``_apply_claimed``)."""
    last_error = None
    if message_id is not None:
        last_error = unit.session.scalar(select(DeliveryRow.last_error).where(DeliveryRow.message_id == message_id))
    return exhausted(attempts, me, last_error)


def dead_letter(custody: Custody, party: str, message_id: str | None, raw: str, reason: str) -> None:
    """Send one message to the dead-letter store in a transaction of its own: the NATS transport's
    last delivery of a message that failed, which JetStream would otherwise drop."""
    with custody.unit() as unit:
        _dead_letter(unit, party, message_id, raw, reason)


def apply_batch(unit: Unit, batch: list[Claimed], me: str) -> None:
    """Apply a claimed batch in ``unit`` without a savepoint per message: one inbox lookup, one insert
    of inbox rows and one delivery update for the whole batch. Raises what sends the batch to the
    careful path instead: a refusal (CustodyError), a duplicate (IntegrityError), a handler's fault."""
    ready: list[Message] = []
    for message_id, to_party, attempts, raw in batch:
        if attempts >= MAX_ATTEMPTS:
            _dead_letter(unit, to_party, message_id, raw, _exhausted(unit, message_id, attempts, me))
        elif message := _readable(unit, to_party, raw, message_id):
            ready.append(message)
    if not ready:
        return
    applied = {
        (party, message_id)
        for party, message_id in unit.session.connection().execute(APPLIED_ALREADY, {"ids": [m.id for m in ready]})
    }
    now = datetime.now(UTC)
    fresh = [m for m in ready if (m.to_party, m.id) not in applied]  # a duplicate's effect is already there
    for _, run in groupby(fresh, key=lambda m: m.type.type):
        messages = list(run)
        HANDLERS[messages[0].type.type](unit, messages)
    inbox = [{"party": message.to_party, "message_id": message.id, "applied_at": now} for message in fresh]
    if inbox:
        unit.session.connection().execute(RECORD_APPLIED, inbox)
    _delivered(unit, [m.id for m in ready])


def drain(custody: Custody, parties: Iterable[str] = EVERY_PARTY, limit: int = 250) -> int:
    """Apply in this process the pending messages of ``parties`` and, in turn, of every party the
    applied messages write to, until they write nothing more: the embedded, one-process mode.

    A queue is claimed only when it is known to have work (a message just queued for it, or a full
    batch taken from it), not polled until every queue answers empty: after a booking, the federal
    queue, then the jail's for the answer, and nothing else."""
    me = worker_id()
    due: list[str] = []
    _enqueue(due, parties)
    total = 0
    while due:
        party = due.pop(0)
        try:
            taken, recipients = take(custody, party, me, limit)
        except Exception as exc:
            # The command that sent the messages has committed: it must not fail for them (found
            # by a review). They stay queued, leased, and are taken again when the lease runs out.
            log.warning("the messages of %s could not be applied now (%s); they stay queued", party, describe(exc))
            continue
        total += taken
        _enqueue(due, recipients)
        if taken == limit:
            _enqueue(due, [party])  # there may be more behind it
    return total


def _enqueue(due: list[str], parties: Iterable[str]) -> None:
    """Add to ``due`` the queues of ``parties`` not already there, federal's before the local agencies'.
    Two local agencies with work share one queue (``local:*``), so that their messages are claimed
    and applied in one batch, as a worker for every local agency would."""
    for party in sorted(parties):
        local = party.startswith("local:")
        if party in due or (local and EVERY_LOCAL in due):
            continue
        other = next((queued for queued in due if queued.startswith("local:")), None) if local else None
        if other is None:
            due.append(party)
        else:
            due[due.index(other)] = EVERY_LOCAL
