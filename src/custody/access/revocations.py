"""Tokens signed out before they expire.

A JWT is good until its ``exp`` wherever it is presented; signing out only forgot the browser's
cookie, so a copied token stayed good for the rest of its eight hours (found by a review; the CJIS
Security Policy asks that a session be ended at logoff). Signing out now records the token's id,
and every request's token is looked up here: one read by primary key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from custody.access.tokens import Verified
from custody.store.models import RevokedTokenRow
from custody.store.unit import Unit


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


def revoked_at(connection: Connection, token_id: str) -> datetime | None:
    """When the token was signed out, or None if it was not."""
    found: datetime | None = connection.scalar(
        select(RevokedTokenRow.revoked_at).where(RevokedTokenRow.token_id == token_id)
    )
    return found
