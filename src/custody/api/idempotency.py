"""``Idempotency-Key`` on POST (HMPPS Book a Secure Move's model): the same key and body give the
stored response again; the same key with another body is a 409.

The access log's entry for the first answer (``custody.api.access_log.entry_writer``) goes in the
transaction that stores it, so a POST with a key costs no transaction of its own for its entry."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custody.domain.errors import Conflict
from custody.service import Custody
from custody.store.models import IdempotencyKeyRow

log = logging.getLogger("custody.api.idempotency")


def run(
    service: Custody,
    key: str | None,
    scope: str,
    body: bytes,
    status: int,
    work: Callable[[], Any],
    also: Callable[[Session], None] | None = None,
) -> tuple[int, Any]:
    """Do ``work`` once per key; ``also`` writes beside the stored answer, in its transaction. If that
    transaction fails (a concurrent retry stored the answer first, or ``also`` failed), the answer is
    stored alone and ``also`` is not retried: its writer must notice it was not committed."""
    if not key:
        return status, jsonable_encoder(work())
    full_key = f"{scope}:{key}"
    digest = hashlib.sha256(body).hexdigest()
    with service.engine.connect() as connection:  # a plain read: no unit of work, no audit heads
        seen = connection.execute(
            select(IdempotencyKeyRow.request_hash, IdempotencyKeyRow.status_code, IdempotencyKeyRow.response).where(
                IdempotencyKeyRow.key == full_key
            )
        ).first()
    if seen is not None:
        if seen.request_hash != digest:
            raise Conflict(f"Idempotency-Key '{key}' was used with a different body; use a new key")
        return seen.status_code, seen.response
    result = jsonable_encoder(work())

    def answer() -> IdempotencyKeyRow:
        return IdempotencyKeyRow(
            key=full_key, request_hash=digest, status_code=status, response=result, created_at=service.clock.now()
        )

    if also is not None:
        try:
            with service.unit() as unit:
                unit.session.add(answer())
                also(unit.session)
            return status, result
        except Exception:
            # The answer must be kept for a retry whatever failed: it is stored alone below, and
            # what ``also`` would have written is left to its own transaction (the access log's).
            log.warning("storing answer %s with its access entry failed; storing it alone", full_key, exc_info=True)
    try:
        with service.unit() as unit:
            unit.session.add(answer())
    except IntegrityError:
        pass  # a concurrent retry stored it first; the effect happened once either way
    return status, result
