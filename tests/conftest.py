"""Fixtures shared by the suite: a fresh store on SQLite and, where the server runs, PostgreSQL.

PostgreSQL tests use the real server (127.0.0.1:5432, database ``test``), each session in its own
schema. Where no server answers they skip with the reason, except under CI=true, where a skip would
hide an untested store and so fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.store import db

# The federal gallery's fixtures (``gallery``, ``blank_gallery``), for every test that searches prints.
pytest_plugins = ("tests.identity.fingerprints",)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
POSTGRES_URL = os.environ.get("CUSTODY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run in CI, so the skip is an error)")
    pytest.skip(reason)


def need_shared() -> Path:
    if not SHARED.exists():
        skip_or_fail(f"../shared is absent ({SHARED})")
    return SHARED


_pg_reason: str | None = None


def _postgres_schema_url() -> str:
    global _pg_reason
    if _pg_reason:
        skip_or_fail(_pg_reason)
    schema = f"custody_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    except Exception as exc:
        _pg_reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        skip_or_fail(_pg_reason)
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def _drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'custody.db'}"
        return
    url = _postgres_schema_url()
    try:
        yield url
    finally:
        _drop_schema(url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat("2017-08-16T08:00:00-05:00"))


@pytest.fixture
def custody(store_url: str, clock: ManualClock) -> Iterator[Custody]:
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    yield Custody(engine, clock, actor="test")
    engine.dispose()
