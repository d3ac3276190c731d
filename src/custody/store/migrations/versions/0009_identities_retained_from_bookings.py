"""federal_identities.retained_from, merged_into: the booking whose prints opened the identity

A booking whose prints found no one was answered and forgotten by the repository, so the same
person arrested again under another name was not linked by prints (found by a review). The
repository now keeps such prints as a new identity (an arrest encounter) and records which booking
they came from, so that prints submitted again for that booking are searched against everyone else,
and, once that booking is linked to another identity, which one (a search that finds the encounter
offers that identity).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both stores (SQLite adds and drops a plain column in place): a batch
# operation would rebuild the table on SQLite, and dropping the old copy of a table that identifiers
# and submissions refer to fails while foreign keys are enforced (found by a review).


def upgrade() -> None:
    op.add_column("federal_identities", sa.Column("retained_from", sa.String(length=40), nullable=True))
    op.add_column("federal_identities", sa.Column("merged_into", sa.String(length=40), nullable=True))
    # One encounter a booking: two paths keeping the same prints at once collide here
    op.create_index("uq_federal_identities_retained_from", "federal_identities", ["retained_from"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_federal_identities_retained_from", table_name="federal_identities")
    op.drop_column("federal_identities", "merged_into")
    op.drop_column("federal_identities", "retained_from")
