"""federal_identities.merged_into indexed: the encounters merged into a person are found by it

A booking whose identifiers name a person is compared with that person's prints, those of the
encounters merged into them included; without an index each such booking read the whole identities
table, once for every step of the merge chain (found by the review that added the comparison).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("federal_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federal_identities_merged_into"), ["merged_into"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("federal_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federal_identities_merged_into"))
