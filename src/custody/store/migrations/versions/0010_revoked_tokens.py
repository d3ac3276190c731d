"""revoked_tokens: a token signed out is refused until it expires

Signing out only deleted the browser's cookie: the token itself stayed good for the rest of its
eight hours, for anyone who had copied it (found by a review). Each token now carries an id
(``jti``); signing out records it here, and every request's token is checked against this table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", custody.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", custody.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_tokens_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_expires_at"))
    op.drop_table("revoked_tokens")
