"""messages wake the workers: PostgreSQL notifies channel ``custody_messages`` when one is written

Workers slept between empty polls (0.2 s), so each hop of the exchange could wait that long: a
booking's identification, then its answer, then a request's decision, each a hop (issue 8: the
benchmark with worker processes spent most of its time asleep). A statement-level trigger on the
outbox sends ``NOTIFY custody_messages, '<schema>'`` in the writing transaction; PostgreSQL delivers
it when, and only if, that transaction commits, so a worker that wakes finds the message there.
The payload is the schema, so that workers of stores sharing a database wake for their own.

SQLite has no notifications; its workers keep polling.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION custody_messages_written() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('custody_messages', current_schema());
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER messages_written AFTER INSERT ON messages "
        "FOR EACH STATEMENT EXECUTE FUNCTION custody_messages_written()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER messages_written ON messages")
    op.execute("DROP FUNCTION custody_messages_written()")
