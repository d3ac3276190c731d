"""simulation_journal: a simulation's own state beside the batches it commits

A national simulation runs for hours; killed, it had to start again in a fresh store, since the
arrests still to come and the cases it follows lived only in its memory (issue 8). The simulator
now writes them in the transaction of each batch it commits (a snapshot, then each batch's
changes), and ``custody simulate --resume`` carries the run on from its last commit.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custody.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulation_journal",
        sa.Column("run", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("snapshot", sa.Boolean(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("simulated_to", custody.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", custody.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run", "number"),
    )


def downgrade() -> None:
    op.drop_table("simulation_journal")
