"""Alembic environment: the engine comes from custody.store.db, never from a config file.

Two processes starting on a new store at once (a first `custody law decide` run twice in parallel)
would both find no schema and both create it, and one would fail on a table the other had made.
So the migration's transaction first takes a lock the other must wait for: SQLite's write lock, or
a PostgreSQL advisory lock held until commit; the second then finds the schema current.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from custody.store.db import lock_for_writing
from custody.store.models import Base

engine = context.config.attributes["engine"]
MIGRATION_LOCK = 0x637573746F6479  # "custody": one key for every schema of the database

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        lock_for_writing(connection)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
