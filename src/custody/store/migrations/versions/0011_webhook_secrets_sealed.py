"""webhook_subscriptions.secret: sealed under the data key

A subscriber's signing secret was kept in the clear (found by a review), so anyone who could read
the store, or one of its backups, could sign messages as custody. custody must read the secret back
to sign with, so it is sealed (Fernet, the data key of store/crypto.py), not hashed. Upgrading seals
the secrets already kept; downgrading opens them again. Both need the data key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from custody.store import crypto

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SUBSCRIPTIONS = sa.table("webhook_subscriptions", sa.column("id"), sa.column("secret"))
SEALED_LENGTH = 200  # the column's length, unchanged: see below


def _rewrite(seal: bool) -> None:
    """Seal every kept secret (or open it again), one row at a time: subscriptions are few. The
    column keeps its type: changing it rebuilds the table on SQLite, which fails while the delivery
    attempts that refer to it are kept (found by a review)."""
    connection = op.get_bind()
    for subscription_id, secret in connection.execute(sa.select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.secret)):
        value = (crypto.fernet().encrypt(secret.encode()) if seal else crypto.unseal(secret.encode())).decode()
        if len(value) > SEALED_LENGTH:
            raise RuntimeError(
                f"webhook subscription {subscription_id} has a signing secret of {len(secret)} characters; sealed, "
                f"it no longer fits the store: delete that subscription and subscribe again with a secret of "
                f"16 to 64 characters"
            )
        connection.execute(_SUBSCRIPTIONS.update().where(_SUBSCRIPTIONS.c.id == subscription_id).values(secret=value))


def upgrade() -> None:
    _rewrite(seal=True)


def downgrade() -> None:
    _rewrite(seal=False)
