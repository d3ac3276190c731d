"""Fixtures for the statistics tests: a store loaded from the shipped files, and one that also holds
the compilations custody may not ship, imported from ../shared (skipped where it is absent)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.stats.datasets import TEXAS, TRAVIS
from custody.stats.warehouse import Warehouse
from tests.conftest import need_shared


def shared_file(name: str) -> Path:
    return need_shared() / "data" / "jail_detainers" / name


def read_csv(path: Path) -> list[dict[str, str]]:
    """The file as plain text rows, read without custody's loader, to recompute figures independently."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path_factory.mktemp("stats") / "stats.duckdb")
    yield w
    w.close()


@pytest.fixture(scope="session")
def imported(warehouse: Warehouse) -> Warehouse:
    for ds in (TEXAS, TRAVIS):
        warehouse.load(ds, shared_file(ds.filename))
    return warehouse
