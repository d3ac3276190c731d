"""inbox: an index by message id

A worker checks a claimed batch against the inbox by message id alone; the primary key begins with
the party, so without this index every check read the whole inbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_message", "inbox", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_message", table_name="inbox")
