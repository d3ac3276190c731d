"""Throw-away stores for benchmarks, chaos runs and load tests.

Each run needs an empty store of the kind it measures, beside whatever the deployment holds: a SQLite
file in a folder of the run's own, or a fresh schema of the PostgreSQL database (named so that an
operator who finds one left behind by a killed run can tell what made it).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base() -> str:
    """The PostgreSQL database scratch schemas go in: the deployment's if it is PostgreSQL, else the local test one."""
    configured = os.environ.get("CUSTODY_DATABASE_URL", "")
    return configured if configured.startswith("postgresql") else POSTGRES_DEFAULT


def scratch_store(
    kind: str, folder: Path, name: str, base: str | None = None, *, unique: bool = True, keep: bool = False
) -> str:
    """The URL of a new, empty store: ``folder/name.db`` for SQLite, or schema ``name_<random>`` in
    PostgreSQL. With ``unique=False`` the schema is ``name`` itself and whatever an earlier run left
    under that name is removed first (a store a command recreates on each run, such as a reform's),
    unless ``keep``: then it is used as it is (a resumed run carries on in it)."""
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / f'{name}.db'}"
        if not unique and not keep:
            drop_scratch(url)
        return url
    base = base or postgres_base()
    schema = f"{name}_{uuid.uuid4().hex[:8]}" if unique else name
    admin = create_engine(base)
    with admin.begin() as conn:
        if not unique and not keep:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {'IF NOT EXISTS ' if keep else ''}{schema}"))
    admin.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def drop_scratch(url: str) -> None:
    """Remove a store made by :func:`scratch_store`: the SQLite file with its journal, or the schema."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    base, schema = url.rsplit("options=-csearch_path%3D", 1)
    admin = create_engine(base.rstrip("?&"))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
