"""Opening the store: SQLite in WAL mode under var/ by default, PostgreSQL when
CUSTODY_DATABASE_URL says so. The schema is always created by the Alembic migrations."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from custody.domain.errors import InvalidInput
from custody.store import json_text

MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    url = os.environ.get("CUSTODY_DATABASE_URL")
    if url:
        return url
    var = Path(os.environ.get("CUSTODY_VAR", "var"))
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'custody.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def begin_before_savepoint(connection: Connection) -> None:
    """Python's sqlite3 begins a transaction only before its first write, so a SAVEPOINT coming first
    would itself be the outermost transaction, and its RELEASE would commit half a unit of work
    (SQLAlchemy's pysqlite notes). Begin it explicitly, then; other units keep the driver's own
    late BEGIN, under which reads never hold a snapshot that a concurrent writer could make stale."""
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")


def lock_for_writing(connection: Connection) -> None:
    """Take SQLite's write lock now, before a read that the transaction's writes depend on (an audit
    chain's head): under the driver's late BEGIN that read ran outside any transaction, so another
    process could append to the chain between it and this transaction's first write, which then
    failed on the chain's unique sequence (seen in the chaos run on the embedded store). Once the
    transaction has written, it holds the lock already. PostgreSQL locks the rows it reads instead
    (``SELECT … FOR UPDATE``)."""
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


JSON_CODEC: dict[str, Any] = {"json_serializer": json_text.dumps, "json_deserializer": json_text.loads}


def make_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **JSON_CODEC)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not url.startswith("postgresql"):
        raise InvalidInput(
            f"custody's store is SQLite or PostgreSQL, not '{url.split(':', 1)[0]}': give sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:5432/DB (in CUSTODY_DATABASE_URL, or --url where a command takes "
            "one; unset, the store is var/custody.db)"
        )
    return create_engine(url, pool_pre_ping=True, **JSON_CODEC)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def describe(exc: BaseException) -> str:
    """An error in one line for a person: its kind and first line, without SQLAlchemy's statement,
    parameters or link (a store's internals, and possibly its data, are not for the screen)."""
    first = (str(exc).strip().splitlines() or [""])[0].split(" (Background on this error", 1)[0].strip()
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# PostgreSQL aborts one of two transactions that wait on each other's locks (40P01) and may refuse a
# transaction it cannot serialise (40001); both are rolled back whole, so running the command again
# is safe and is what the server asks for.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRIES = 5


def must_retry(error: DBAPIError) -> bool:
    """The store rolled this transaction back only because of another one running at the same time."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


T = TypeVar("T")


def with_retries(transaction: Callable[[], T]) -> T:
    """Run ``transaction`` (a whole one: begun and ended inside) again, after a short random pause,
    when the store rolled it back only because of a concurrent one (``must_retry``)."""
    for attempt in range(1, RETRIES + 1):
        try:
            return transaction()
        except DBAPIError as error:
            if attempt == RETRIES or not must_retry(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
