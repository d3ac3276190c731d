"""Throw-away stores: a unique one is new each time; a named one (a reform's) is recreated empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from custody.store.scratch import drop_scratch, scratch_store
from tests.conftest import POSTGRES_URL, skip_or_fail


def _leave_a_table(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE left_behind (n INTEGER)"))
    engine.dispose()


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_named_sqlite_store_is_recreated_empty(tmp_path: Path) -> None:
    first = scratch_store("sqlite", tmp_path, "sim.reform-7", unique=False)
    _leave_a_table(first)
    again = scratch_store("sqlite", tmp_path, "sim.reform-7", unique=False)
    assert again == first and _tables(again) == []
    drop_scratch(again)
    assert not (tmp_path / "sim.reform-7.db").exists()


@pytest.mark.postgres
def test_postgres_scratch_stores_are_unique_unless_named() -> None:
    try:
        first = scratch_store("postgres", Path(), "custody_test_named", base=POSTGRES_URL, unique=False)
    except Exception as exc:  # no server here: the reason is the skip's
        skip_or_fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    try:
        _leave_a_table(first)
        again = scratch_store("postgres", Path(), "custody_test_named", base=POSTGRES_URL, unique=False)
        assert again == first and _tables(again) == []
        one, two = (scratch_store("postgres", Path(), "custody_test_unique", base=POSTGRES_URL) for _ in range(2))
        assert one != two
        for url in (one, two):
            drop_scratch(url)
    finally:
        drop_scratch(first)
