"""Throw-away stores for benchmarks, chaos runs and load tests.

Each run needs an empty store of the kind it measures, beside whatever the deployment holds: a SQLite
file in a folder of the run's own, or a fresh schema of the PostgreSQL database (named so that an
operator who finds one left behind by a killed run can tell what made it).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A search path among libpq's connection options: "-csearch_path=S", "-c search_path=S" or "--search_path=S".
SEARCH_PATH = re.compile(r"(?:-c\s*|--)search_path=(\S+)")


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
    return with_search_path(base, schema)


def _options(url: str) -> str:
    """The libpq options of a URL (``options=`` given twice counts as one list)."""
    given = make_url(url).query.get("options", "")
    return " ".join(given) if isinstance(given, tuple) else given


def with_search_path(base: str, schema: str) -> str:
    """``base`` on ``schema``: its own search path replaced, its other connection options kept. (A base
    with a search path of its own was given a second ``options=``, which the driver refused, found by
    a review.)"""
    options = [*SEARCH_PATH.sub("", _options(base)).split(), f"-csearch_path={schema}"]
    return make_url(base).update_query_dict({"options": " ".join(options)}).render_as_string(hide_password=False)


def drop_scratch(url: str) -> None:
    """Remove a store made by :func:`scratch_store`: the SQLite file with its journal, or the schema."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    found = SEARCH_PATH.search(_options(url))
    if found is None:
        raise ValueError("not a scratch store's URL: it names no search path")
    schema = found.group(1)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
