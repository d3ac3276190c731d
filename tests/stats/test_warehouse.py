"""Loading: checksum, header and cell checks refuse bad files; typed values sit beside the raw text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import pytest

from custody.domain.errors import InvalidInput, NotFound
from custody.stats.datasets import DATA_DIR, DATASETS, TEXAS, TRAVIS, UCR
from custody.stats.warehouse import Warehouse, sha256_of
from tests.stats.conftest import read_csv


def test_each_shipped_file_matches_its_checksum_and_its_provenance_entry() -> None:
    provenance = (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    shipped = [d for d in DATASETS.values() if not d.import_only]
    for ds in shipped:
        assert ds.shipped_path is not None
        assert hashlib.sha256(ds.shipped_path.read_bytes()).hexdigest() == ds.sha256, ds.key
        assert ds.sha256 in provenance and ds.filename in provenance, ds.key
    data_files = {p.name for p in DATA_DIR.iterdir() if p.suffix == ".csv"}
    assert data_files == {d.filename for d in shipped}


def test_compilations_the_project_may_not_ship_are_not_in_the_package() -> None:
    for ds in DATASETS.values():
        if ds.import_only:
            assert not (DATA_DIR / ds.filename).exists(), ds.key


def test_raw_text_is_kept_beside_the_typed_value(warehouse: Warehouse) -> None:
    table = warehouse.table(UCR)
    rows = warehouse.rows(f"SELECT line, homs_sum, homs_sum_raw, total_pop, total_pop_raw FROM {table} "
                          "WHERE department_name = 'National' AND year = 2015")  # fmt: skip
    line, murders, murders_raw, population, population_raw = rows[0]
    source = read_csv(DATA_DIR / UCR.filename)[line - 2]
    assert (murders_raw, population_raw) == (source["homs_sum"], source["total_pop"]) == (str(murders), "NA")
    assert population is None


def test_provenance_records_what_was_loaded(warehouse: Warehouse) -> None:
    warehouse.table(UCR)
    record = next(r for r in warehouse.loaded() if r.key == UCR.key)
    assert record.sha256 == sha256_of(DATA_DIR / UCR.filename)
    assert record.rows == len(read_csv(DATA_DIR / UCR.filename))
    assert record.shipped and record.licence == UCR.licence


def test_a_file_with_other_columns_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "travis.csv"
    path.write_text("month,total,felonies\n2016-10,6,3\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"missing columns .*has_at_least_one_felony.*unexpected columns .*felonies"):
        Warehouse().load(TRAVIS, path)


def test_a_file_with_the_right_columns_but_other_bytes_is_refused(tmp_path: Path) -> None:
    original = (DATA_DIR / UCR.filename).read_text(encoding="utf-8")
    path = tmp_path / UCR.filename
    path.write_text(original.replace('"ILCPD00",2015,"Chicago",2728695,478', '"ILCPD00",2015,"Chicago",2728695,479'))
    assert path.read_text(encoding="utf-8") != original
    w = Warehouse()
    with pytest.raises(InvalidInput, match=r"sha256 \w+ is not that of the ucr-1975-2015 file"):
        w.load(UCR, path)
    assert w.loaded() == []


def test_a_cell_that_does_not_parse_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "travis.csv"
    path.write_text(
        "month,total,has_at_least_one_felony,has_at_least_one_violent_crime\n2016-10,6,3,2\n2016-09,5x,1,\n",
        encoding="utf-8",
    )
    spec = replace(TRAVIS, sha256=sha256_of(path))
    w = Warehouse()
    with pytest.raises(InvalidInput, match=re.escape("column 'total' should hold int values but 1 cell(s) do not, "
                                                     "first at line 3: '5x'")):  # fmt: skip
        w.load(spec, path)
    assert w.rows("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [spec.table]) == [(0,)]


def test_a_compilation_not_yet_imported_is_refused_with_the_command_that_imports_it() -> None:
    with pytest.raises(NotFound, match=r"custody stats import texas-detainers PATH"):
        Warehouse().table(TEXAS)


def test_progress_is_reported_while_a_file_is_checked() -> None:
    seen: list[tuple[str, int, int]] = []
    Warehouse(progress=lambda label, done, total: seen.append((label, done, total))).table(UCR)
    size = (DATA_DIR / UCR.filename).stat().st_size
    assert ("checking ucr-1975-2015", size, size) in seen
    assert seen[-1] == ("loading ucr-1975-2015", 1, 1)


def test_duckdb_draws_no_progress_bar_on_stdout(warehouse: Warehouse) -> None:
    """DuckDB's own bar goes to stdout for any query over two seconds, even off a terminal, which
    would break a --json answer; custody turns it off on every connection."""
    assert warehouse.rows("SELECT current_setting('enable_progress_bar')") == [(False,)]
