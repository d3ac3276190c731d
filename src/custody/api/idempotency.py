"""``Idempotency-Key`` on POST (HMPPS Book a Secure Move's model): the same key and body give the
stored response again; the same key with another body is a 409.

The access log's entry for the first answer (``custody.api.access_log.entry_writer``) goes in the
transaction that stores it, so a POST with a key costs no transaction of its own for its entry.
When the messages are left to `custody worker` (the server does not deliver them inline), the
key's look-up, the change itself, the answer read back and the stored answer with its entry are one
transaction: the key is kept only with the change it answers, and a POST commits once."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from custody.domain.errors import Conflict, CustodyError
from custody.service import Custody
from custody.store import db
from custody.store.models import IdempotencyKeyRow
from custody.store.unit import Unit

log = logging.getLogger("custody.api.idempotency")
# A key claimed by a request still being carried out (no HTTP status is 0).
IN_PROGRESS = 0
CLAIM = insert(IdempotencyKeyRow).values(
    key=bindparam("key"),
    request_hash=bindparam("hash"),
    status_code=bindparam("status"),
    response={},
    created_at=bindparam("at"),
)
UNCLAIM = delete(IdempotencyKeyRow).where(
    IdempotencyKeyRow.key == bindparam("key"), IdempotencyKeyRow.status_code == IN_PROGRESS
)
STORED = select(IdempotencyKeyRow.request_hash, IdempotencyKeyRow.status_code, IdempotencyKeyRow.response).where(
    IdempotencyKeyRow.key == bindparam("key")
)


def run(
    service: Custody,
    key: str | None,
    scope: str,
    body: bytes,
    status: int,
    work: Callable[[], Any],
    also: Callable[[Unit, Any], None] | None = None,
    check: Callable[[], None] | None = None,
) -> tuple[int, Any]:
    """Do ``work`` once per key; ``also`` writes beside the stored answer, in its transaction.
    ``check`` runs before anything else, the stored answer included (a replay is answered only to
    whoever may make the request), in the same transaction as the rest when there is one.

    Without inline delivery, ``work`` should run on ``service`` so that it shares that transaction;
    if the transaction fails, nothing of it is kept, and a concurrent request's stored answer, if
    there is one, is the answer. With inline delivery, the change has committed before the answer is
    stored: if that transaction fails (a concurrent retry stored the answer first, or ``also``
    failed), the answer is stored alone and ``also`` is not retried. Either way ``also``'s writer
    must notice whether it was committed."""
    if not key:
        if check is not None:
            check()
        return status, jsonable_encoder(work())
    full_key = f"{scope}:{key}"
    digest = _digest(body)

    def answer(result: Any) -> IdempotencyKeyRow:
        return IdempotencyKeyRow(
            key=full_key, request_hash=digest, status_code=status, response=result, created_at=service.clock.now()
        )

    if not service.inline:

        def once() -> tuple[int, Any]:
            # The key is looked up in the transaction that will store it: one connection and one
            # transaction per POST, not a look-up on a connection of its own first (issue 9).
            with service.batch(all_or_nothing=True), service.unit() as unit:
                if check is not None:
                    check()
                seen = _stored(unit.session.connection(), full_key, key, digest)
                if seen is not None:
                    return seen
                result = jsonable_encoder(work())
                unit.session.add(answer(result))
                if also is not None:
                    also(unit, result)
            return status, result

        try:
            return db.with_retries(once)
        except IntegrityError:
            # Rolled back whole: if a concurrent request with this key committed first, its answer
            # stands; otherwise the conflict was the change's own, and is answered as such.
            seen = _stored_apart(service, full_key, key, digest)
            if seen is None:
                raise
            return seen
    if check is not None:
        check()
    seen = _stored_apart(service, full_key, key, digest)
    if seen is not None:
        return seen
    # Inline delivery: the change commits and its messages are applied before the answer is read,
    # so that the answer shows what they did (a request decided, a booking identified). The key is
    # claimed first, in a transaction of its own: two requests sent at once with the same key both
    # did the work before either stored its answer (found by a review: two holds, two messages).
    seen = _claim(service, full_key, key, digest)
    if seen is not None:
        return seen
    try:
        result = jsonable_encoder(work())
    except CustodyError:
        # Refused: nothing of the change was kept, so the key is given back for a corrected request.
        with service.engine.begin() as connection:
            connection.execute(UNCLAIM, {"key": full_key})
        raise
    # Any other failure may come after the change committed (its messages failed to apply, say): the
    # claim stays, so a retry is told to check rather than do the work twice (found by a code review).

    if also is not None:
        try:
            with service.unit() as unit:
                unit.session.merge(answer(result))
                also(unit, result)
            return status, result
        except Exception:
            # The answer must be kept for a retry whatever failed: it is stored alone below, and
            # what ``also`` would have written is left to its own transaction (the access log's).
            log.warning("storing answer %s with its access entry failed; storing it alone", full_key, exc_info=True)
    with service.unit() as unit:
        unit.session.merge(answer(result))
    return status, result


def _digest(body: bytes) -> str:
    """The body's fingerprint: of its JSON as a value where it is JSON, so that a client that sends the
    same request again laid out differently (spacing, key order) gets its answer, not a 409 (found by
    a review); of its bytes otherwise (a form)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _claim(service: Custody, full_key: str, key: str, digest: str) -> tuple[int, Any] | None:
    """Take the key for this request (a row marked in progress), or, if another request holds it
    or has answered under it, what ``_stored`` says of that."""
    try:
        with service.engine.begin() as connection:
            connection.execute(
                CLAIM, {"key": full_key, "hash": digest, "status": IN_PROGRESS, "at": service.clock.now()}
            )
    except IntegrityError:
        return _stored_apart(service, full_key, key, digest)
    return None


def _stored_apart(service: Custody, full_key: str, key: str, digest: str) -> tuple[int, Any] | None:
    """``_stored`` on a connection of its own: a plain read, no unit of work, no audit heads."""
    with service.engine.connect() as connection:
        return _stored(connection, full_key, key, digest)


def _stored(connection: Connection, full_key: str, key: str, digest: str) -> tuple[int, Any] | None:
    """The answer stored under this key, if any; a 409 if the key came with another body, or if the
    request that claimed it has not answered yet."""
    seen = connection.execute(STORED, {"key": full_key}).first()
    if seen is None:
        return None
    if seen.request_hash != digest:
        raise Conflict(f"Idempotency-Key '{key}' was used with a different body; use a new key")
    if seen.status_code == IN_PROGRESS:
        raise Conflict(
            f"a request with Idempotency-Key '{key}' is being carried out; send it again in a moment for its "
            "answer (if it stays so, the server stopped during it: check whether it took effect before "
            "sending it with a new key)"
        )
    return seen.status_code, seen.response
