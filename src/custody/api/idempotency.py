"""``Idempotency-Key`` on POST (HMPPS Book a Secure Move's model): the same key and body give the
stored response again; the same key with another body is a 409."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.exc import IntegrityError

from custody.domain.errors import Conflict
from custody.service import Custody
from custody.store.models import IdempotencyKeyRow


def run(
    service: Custody, key: str | None, scope: str, body: bytes, status: int, work: Callable[[], Any]
) -> tuple[int, Any]:
    if not key:
        return status, jsonable_encoder(work())
    full_key = f"{scope}:{key}"
    digest = hashlib.sha256(body).hexdigest()
    with service.unit() as unit:
        seen = unit.session.get(IdempotencyKeyRow, full_key)
        if seen is not None:
            if seen.request_hash != digest:
                raise Conflict(f"Idempotency-Key '{key}' was used with a different body; use a new key")
            return seen.status_code, seen.response
    result = jsonable_encoder(work())
    try:
        with service.unit() as unit:
            unit.session.add(
                IdempotencyKeyRow(
                    key=full_key,
                    request_hash=digest,
                    status_code=status,
                    response=result,
                    created_at=service.clock.now(),
                )
            )
    except IntegrityError:
        pass  # a concurrent retry stored it first; the effect happened once either way
    return status, result
