"""Tokens signed out before they expire.

A JWT is good until its ``exp`` wherever it is presented; signing out only forgot the browser's
cookie, so a copied token stayed good for the rest of its eight hours (found by a review). Signing
out now records the token's id in ``revoked_tokens``, and every request's token is checked against
the ids its server process knows: those it signed out itself, at once, and those signed out through
another process, once it has read the table again (every second, off the request path). Looking
each token up in the table instead cost a round trip a request: 1 ms of server CPU, 12 % under
load (bench/load_api.py, seventeenth session).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from custody.access.tokens import Verified
from custody.store.models import RevokedTokenRow
from custody.store.unit import Unit

REFRESH_SECONDS = 1.0


def revoke(unit: Unit, token: Verified) -> bool:
    """Refuse the token from now on; False when it has no id (minted before tokens had one) and can
    only expire. Rows of tokens that have expired anyway go at the same time."""
    if token.token_id is None:
        return False
    now = datetime.now(UTC)  # tokens expire on the wall clock, whatever clock custody runs on
    connection = unit.session.connection()
    connection.execute(delete(RevokedTokenRow).where(RevokedTokenRow.expires_at < now))
    # Two sign-outs of one token at once: the second finds the first's row (on conflict, nothing),
    # not an error (found by a review).
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    connection.execute(
        dialect.insert(RevokedTokenRow).on_conflict_do_nothing(index_elements=["token_id"]),
        {
            "token_id": token.token_id,
            "subject": token.principal.subject,
            "revoked_at": now,
            "expires_at": token.expires_at,
        },
    )
    return True


class Revoked:
    """The tokens signed out, as one server process knows them: token id -> (signed out at, expires
    at). Revocations are never undone, so what the process learnt stays until the token expires."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[datetime, datetime]] = {}
        self._lock = threading.Lock()

    def signed_out_at(self, token_id: str) -> datetime | None:
        known = self._known.get(token_id)
        return known[0] if known else None

    def add(self, token: Verified, at: datetime) -> None:
        """A token this process signed out: refused here at once."""
        if token.token_id is not None:
            with self._lock:
                self._known = {**self._known, token.token_id: (at, token.expires_at)}

    def read(self, connection: Connection) -> None:
        """Learn the tokens signed out anywhere, and forget those expired since."""
        now = datetime.now(UTC)
        rows = connection.execute(
            select(RevokedTokenRow.token_id, RevokedTokenRow.revoked_at, RevokedTokenRow.expires_at).where(
                RevokedTokenRow.expires_at >= now
            )
        )
        read = {row.token_id: (row.revoked_at, row.expires_at) for row in rows}
        with self._lock:
            self._known = {k: v for k, v in {**self._known, **read}.items() if v[1] >= now}
