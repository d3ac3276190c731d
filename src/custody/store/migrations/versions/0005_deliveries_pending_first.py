"""deliveries: the claim index leads with the state

A claim reads the pending deliveries of one party, or of every local party (``local:*``, a range of
the party column). With the party first, the range read every delivery ever made to a local
agency, done or not; with the state first it reads only the pending ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 11:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_delivery_due", table_name="deliveries")
    op.create_index("ix_delivery_pending", "deliveries", ["state", "party", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_delivery_pending", table_name="deliveries")
    op.create_index("ix_delivery_due", "deliveries", ["party", "state", "seq"], unique=False)
