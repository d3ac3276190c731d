"""Throw-away stores: a unique one is new each time; a named one (a reform's) is recreated empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from custody.store.scratch import drop_scratch, scratch_store, with_search_path
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


def test_a_search_path_replaces_the_base_s_own_and_keeps_its_other_options() -> None:
    """Found by a review: a base URL with options of its own was given a second ``options=``."""
    base = f"{POSTGRES_URL}?options=-csearch_path%3Dmain%20-c%20statement_timeout%3D5000&sslmode=prefer"
    url = make_url(with_search_path(base, "scratch_1"))
    assert url.query == {"options": "-c statement_timeout=5000 -csearch_path=scratch_1", "sslmode": "prefer"}
    assert make_url(with_search_path(POSTGRES_URL, "s")).query == {"options": "-csearch_path=s"}


@pytest.mark.postgres
def test_a_postgres_scratch_store_beside_a_base_with_a_search_path_is_on_its_own_schema() -> None:
    base = f"{POSTGRES_URL}?options=-csearch_path%3Dpublic%20-c%20statement_timeout%3D5000"
    try:
        url = scratch_store("postgres", Path(), "custody_test_based", base=base, unique=False)
    except Exception as exc:  # no server here: the reason is the skip's
        skip_or_fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            shown = conn.execute(text("SELECT current_schema(), current_setting('statement_timeout')")).one()
        engine.dispose()
        assert tuple(shown) == ("custody_test_based", "5s")
    finally:
        drop_scratch(url)
