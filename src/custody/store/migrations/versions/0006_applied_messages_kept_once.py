"""inbox and deliveries: an applied message is kept once, as its outbox row

The inbox held a second copy of every message it recorded (type, subject, data), beside the outbox
row that keeps the whole envelope; a delivery row stayed in the in-process queue, marked done, after
its message was applied. Together 14 % of a simulated store (issue 8). The inbox keeps who applied
which message and when; the queue keeps what is still to deliver, and the dead.

Downgrade puts the copies back from the outbox (type, subject, and the envelope's data); the done
deliveries are gone for good (they said only that the message was applied, which the inbox says).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:20:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COPIES = ("type", "subject", "data")


def upgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE state = 'done'")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_subject")
        for column in _COPIES:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("type", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
    inbox = sa.table(
        "inbox",
        sa.column("party"),
        sa.column("message_id"),
        sa.column("type"),
        sa.column("subject"),
        sa.column("data", sa.JSON()),
    )
    messages = sa.table("messages", sa.column("id"), sa.column("type"), sa.column("subject"), sa.column("envelope"))
    connection = op.get_bind()
    applied = sa.select(messages.c.id, messages.c.type, messages.c.subject, messages.c.envelope).where(
        messages.c.id.in_(sa.select(inbox.c.message_id))
    )
    for message_id, type_, subject, envelope in connection.execute(applied):
        connection.execute(
            inbox.update()
            .where(inbox.c.message_id == message_id)
            .values(type=type_, subject=subject, data=json.loads(envelope).get("data", {}))
        )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.alter_column("type", existing_type=sa.String(length=80), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("data", existing_type=sa.JSON(), nullable=False)
        batch_op.create_index("ix_inbox_subject", ["subject"], unique=False)
