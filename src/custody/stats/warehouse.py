"""The statistics store: a DuckDB file holding each checked data set, typed, beside its raw text.

A figure custody prints must be traceable to the exact cell it came from, so each typed column keeps
the original text beside it (``<column>_raw``) and its line in the file (``line``). A file is refused
before anything is stored unless its header and its sha256 are exactly those of the version custody
checked, and every non-empty cell of a typed column must parse: an unparseable cell is named with its
line, never silently turned into a missing value.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from custody.domain.errors import Conflict, InvalidInput, NotFound
from custody.stats.datasets import Column, Dataset, Kind
from custody.stats.outcomes import NOT_IN_FORCE, WINDOWS, process_bookings
from custody.store.models import FederalRequestRow

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes total) while a file is checked

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    """What one load stored, as recorded in the provenance table."""

    key: str
    path: str
    sha256: str
    rows: int
    loaded_at: str
    source: str
    licence: str
    shipped: bool


def default_path() -> Path:
    var = Path(os.environ.get("CUSTODY_VAR", "var"))
    var.mkdir(parents=True, exist_ok=True)
    return var / "stats.duckdb"


def sha256_of(path: Path, progress: Progress | None = None, label: str = "") -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(label or path.name, done, total)
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(column: Column, nulls: Sequence[str]) -> str:
    """The SQL that turns the raw text of ``column`` into its typed value (NULL when it cannot)."""
    raw = _quote(column.header)
    value = f"(CASE WHEN {raw} IN ({', '.join(_literal(t) for t in nulls)}) THEN NULL ELSE {raw} END)" if nulls else raw
    match column.kind:
        case Kind.TEXT:
            return value
        case Kind.INT:
            return f"TRY_CAST({value} AS BIGINT)"
        case Kind.FLOAT:
            return f"TRY_CAST({value} AS DOUBLE)"
        case Kind.BOOL:
            return f"(CASE lower({value}) WHEN 'true' THEN true WHEN 'false' THEN false END)"
        case Kind.MONTH_NAME:
            cases = " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(_MONTHS, start=1))
            return f"(CASE lower(trim({value})) {cases} END)"
        case Kind.YEAR_MONTH:
            return f"CAST(try_strptime({value}, '%Y-%m') AS DATE)"
        case Kind.US_TIMESTAMP:
            return f"try_strptime({value}, '%m/%d/%Y %I:%M:%S %p')"
        case Kind.ISO_DATE:
            return f"TRY_CAST({value} AS DATE)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None


class Warehouse:
    """One DuckDB connection; data sets are loaded on first use (shipped) or by import (the user's)."""

    def __init__(self, path: Path | None = None, progress: Progress | None = None) -> None:
        self.path = path
        self.progress = progress
        try:
            self.con = duckdb.connect(str(path) if path else ":memory:")
        except duckdb.IOException as exc:
            raise Conflict(
                f"cannot open the statistics store {path}: {exc}; is another custody process using it?"
            ) from exc
        # DuckDB draws its own bar on stdout for any query over two seconds, terminal or not: it would
        # break a --json answer. Long work shows custody's progress on stderr instead.
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS stats_provenance (key VARCHAR PRIMARY KEY, path VARCHAR, sha256 VARCHAR, "
            "rows BIGINT, loaded_at VARCHAR, source VARCHAR, licence VARCHAR, shipped BOOLEAN)"
        )

    @classmethod
    def open(cls, progress: Progress | None = None) -> Warehouse:
        return cls(default_path(), progress)

    def close(self) -> None:
        self.con.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def loaded(self) -> list[Loaded]:
        return [Loaded(*row) for row in self.rows("SELECT * FROM stats_provenance ORDER BY key")]

    def table(self, ds: Dataset) -> str:
        """The table holding ``ds``, loading the shipped copy on first use; a data set the user must
        supply and has not imported is refused with the command that imports it."""
        current = self.rows("SELECT sha256 FROM stats_provenance WHERE key = ?", [ds.key])
        if current and current[0][0] == ds.sha256:
            return ds.table
        if ds.shipped_path is None:
            raise NotFound(
                f"{ds.title} is not imported (its licence, {ds.licence}, keeps it out of custody): "
                f"run `custody stats import {ds.key} PATH` with {ds.filename} from {ds.source}"
            )
        self.load(ds, ds.shipped_path)
        return ds.table

    def load(self, ds: Dataset, path: Path) -> Loaded:
        """Check ``path`` against ``ds`` and store it typed, replacing any earlier load of ``ds``."""
        if not path.is_file():
            raise InvalidInput(f"cannot read {path}: no such file")
        self._check_header(ds, path)
        digest = sha256_of(path, self.progress, f"checking {ds.key}")
        if digest != ds.sha256:
            raise InvalidInput(
                f"{path}: sha256 {digest} is not that of the {ds.key} file custody checked ({ds.sha256}, "
                f"from {ds.source}); its figures may differ: use that version of the file"
            )
        if self.progress:
            self.progress(f"loading {ds.key}", 0, 1)
        rows = self._store(ds, path)
        if self.progress:
            self.progress(f"loading {ds.key}", 1, 1)
        record = Loaded(
            key=ds.key,
            path=str(path),
            sha256=digest,
            rows=rows,
            loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source=ds.source,
            licence=ds.licence,
            shipped=not ds.import_only,
        )
        self.con.execute("DELETE FROM stats_provenance WHERE key = ?", [ds.key])
        self.con.execute("INSERT INTO stats_provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(record.__dict__.values()))
        return record

    @staticmethod
    def _check_header(ds: Dataset, path: Path) -> None:
        found = _header(path)
        expected = [c.header for c in ds.columns]
        if found == expected:
            return
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        detail = "; ".join(
            part
            for part in (
                f"missing columns {missing}" if missing else "",
                f"unexpected columns {extra}" if extra else "",
                "columns in another order" if not missing and not extra else "",
            )
            if part
        )
        raise InvalidInput(f"{path} is not the {ds.key} file: {detail} (expected {expected})")

    def _store(self, ds: Dataset, path: Path) -> int:
        staging = f"{ds.table}__staging"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staging} AS SELECT row_number() OVER () + 1 AS line, * "
            "FROM read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"', strict_mode = true)",
            [str(path)],
        )
        select = ["line"]
        for column in ds.columns:
            select.append(f"{_typed(column, ds.null_tokens)} AS {_quote(column.column)}")
            if column.kind is not Kind.TEXT:
                select.append(f"{_quote(column.header)} AS {_quote(column.column + '_raw')}")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {ds.table} AS SELECT {', '.join(select)} FROM {staging}")
            self._check_cells(ds)
        except InvalidInput:
            self.con.execute(f"DROP TABLE IF EXISTS {ds.table}")
            self.con.execute("DELETE FROM stats_provenance WHERE key = ?", [ds.key])
            raise
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {staging}")
        (count,) = self.rows(f"SELECT count(*) FROM {ds.table}")[0]
        return int(count)

    def _check_cells(self, ds: Dataset) -> None:
        nulls = [*ds.null_tokens]
        for column in ds.columns:
            if column.kind is Kind.TEXT:
                continue
            raw, typed = _quote(column.column + "_raw"), _quote(column.column)
            bad = self.rows(
                f"SELECT line, {raw}, count(*) OVER () FROM {ds.table} WHERE {raw} IS NOT NULL "
                f"AND NOT list_contains(CAST(? AS VARCHAR[]), {raw}) AND {typed} IS NULL ORDER BY line LIMIT 1",
                [nulls],
            )
            if bad:
                line, value, count = bad[0]
                raise InvalidInput(
                    f"{ds.key}: column '{column.header}' should hold {column.kind.value} values but {count} cell(s) "
                    f"do not, first at line {line}: {value!r}"
                )


# --- the process's own outcomes, at scale -------------------------------------------------------
# stats.outcomes reads a store into Python, which is right for one agency's cases but not for a
# simulated national year (about 10 million bookings). The same figures, as DuckDB queries over
# the bookings and requests copied out of the store once.

PROCESS_TABLES = {
    "process_bookings": "id VARCHAR, agency VARCHAR, state VARCHAR, person VARCHAR, booked_at TIMESTAMP, "
    "left_custody_at TIMESTAMP",
    "process_requests": "id VARCHAR, booking_id VARCHAR, agency VARCHAR, state VARCHAR",
    "process_answers": "request_id VARCHAR, agency VARCHAR, action VARCHAR, answer VARCHAR",
}
_RELEASED = "b.state = 'released' AND b.left_custody_at IS NOT NULL"


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _outcome_queries() -> dict[str, str]:
    """Each figure of ``stats.outcomes.outcomes`` as one query; ``{r}`` and ``{b}`` are the agency
    filters on requests and on bookings (empty for every agency)."""
    not_in_force = ", ".join(_literal(s) for s in NOT_IN_FORCE)
    horizon = "(SELECT max(booked_at) FROM process_bookings)"
    windows = ", ".join(
        f"count(*) FILTER (WHERE gap <= INTERVAL {days} DAY AND left_custody_at + INTERVAL {days} DAY <= {horizon}) "
        f"AS within_{days}"
        for days in WINDOWS
    )
    followed = ", ".join(
        f"count(*) FILTER (WHERE b.left_custody_at + INTERVAL {days} DAY <= {horizon}) AS followed_{days}"
        for days in WINDOWS
    )
    return {
        "requests": "SELECT count(*) FILTER (WHERE state <> 'issued'), count(*) FILTER (WHERE state = 'lapsed'), "
        "count(*) FILTER (WHERE state = 'cancelled') FROM process_requests WHERE true {r}",
        "honored_declined": "SELECT count(DISTINCT request_id) FILTER (WHERE answer = 'honor'), "
        "count(DISTINCT request_id) FILTER (WHERE answer = 'decline') FROM process_answers WHERE true {r}",
        "by_action": "SELECT action, count(*) FILTER (WHERE answer = 'honor'), count(*) FILTER (WHERE answer = "
        "'decline') FROM process_answers WHERE true {r} GROUP BY action ORDER BY action",
        "releases": f"SELECT count(*) FROM process_bookings b WHERE {_RELEASED} {{b}}",
        "releases_with_request_in_force": "SELECT count(DISTINCT r.booking_id) FROM process_requests r JOIN "
        f"process_bookings b ON b.id = r.booking_id WHERE {_RELEASED} {{b}} AND r.state NOT IN ({not_in_force})",
        "rebooked_within_days": f"SELECT {windows} FROM (SELECT b.id, b.left_custody_at, "
        "min(o.booked_at - b.left_custody_at) AS gap "
        "FROM process_bookings b JOIN process_bookings o ON o.person = b.person AND o.id <> b.id "
        f"AND o.booked_at >= b.left_custody_at WHERE {_RELEASED} {{b}} AND b.person IS NOT NULL "
        "GROUP BY b.id, b.left_custody_at)",
        "releases_followed_for_days": f"SELECT {followed} FROM process_bookings b WHERE {_RELEASED} {{b}}",
    }


def load_process(warehouse: Warehouse, session: Session) -> int:
    """Copy the store's bookings, each with its person (``stats.outcomes.process_bookings``), and its
    federal requests into the process tables, replacing what was there; return the bookings."""
    with tempfile.TemporaryDirectory(prefix="custody-outcomes-") as folder:
        files = {name: Path(folder) / f"{name}.csv" for name in PROCESS_TABLES}
        with ExitStack() as stack:
            out = {name: csv.writer(stack.enter_context(path.open("w", newline=""))) for name, path in files.items()}
            count = 0
            for b in process_bookings(session):
                out["process_bookings"].writerow(
                    (b.id, b.agency, b.state, b.person or "", _utc(b.booked_at), _utc(b.left_custody_at))
                )
                count += 1
            for r in session.scalars(select(FederalRequestRow).execution_options(yield_per=10_000)):
                out["process_requests"].writerow((r.id, r.booking_id, r.agency, r.state))
                for action, answer in (r.response or {}).get("answers", {}).items():
                    out["process_answers"].writerow((r.id, r.agency, action, answer["answer"]))
        for name, columns in PROCESS_TABLES.items():
            warehouse.con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
            if files[name].stat().st_size == 0:
                continue  # nothing of this kind (a store without requests): DuckDB cannot read an empty file
            types = {c.split()[0]: c.split()[1] for c in columns.split(", ")}
            warehouse.con.execute(
                f"INSERT INTO {name} SELECT * FROM read_csv(?, header = false, columns = ?, nullstr = '')",
                [str(files[name]), types],
            )
    return count


def process_outcomes(
    warehouse: Warehouse, agency: str | None = None, seconds: dict[str, float] | None = None
) -> dict[str, Any]:
    """The figures of ``stats.outcomes.outcomes`` (without its caveats) from the process tables;
    ``seconds`` receives each query's time."""
    results: dict[str, list[tuple[Any, ...]]] = {}
    params = [agency] if agency else []
    if agency and not warehouse.rows("SELECT 1 FROM process_bookings WHERE agency = ? LIMIT 1", params):
        raise NotFound(f"no booking of {agency} is in the process tables: check the division id")  # as the store
    for name, sql in _outcome_queries().items():
        began = time.perf_counter()
        text = sql.format(r="AND agency = ?" if agency else "", b="AND b.agency = ?" if agency else "")
        results[name] = warehouse.rows(text, params)
        if seconds is not None:
            seconds[name] = time.perf_counter() - began
    (received, lapsed, cancelled), (honored, declined) = results["requests"][0], results["honored_declined"][0]
    return {
        "agency": agency or "all agencies in this store",
        "requests": {
            "received": received,
            "honored": honored,
            "declined": declined,
            "lapsed": lapsed,
            "cancelled": cancelled,
            "by_action": {a: {"honored": h, "declined": d} for a, h, d in results["by_action"]},
        },
        "releases": results["releases"][0][0],
        "releases_with_request_in_force": results["releases_with_request_in_force"][0][0],
        "rebooked_within_days": dict(zip((str(d) for d in WINDOWS), results["rebooked_within_days"][0], strict=True)),
        "releases_followed_for_days": dict(
            zip((str(d) for d in WINDOWS), results["releases_followed_for_days"][0], strict=True)
        ),
    }
