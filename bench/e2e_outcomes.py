"""The standard outcome queries of the statistics module over a national year in DuckDB (issue 8).

    .venv/bin/custody simulate --days 365 --sample 0.002 --url sqlite:///var/year.db --json
    .venv/bin/python bench/e2e_outcomes.py --url sqlite:///var/year.db [--bookings 10300000]

A simulated store is copied into DuckDB (``stats.warehouse.load_process``), then its population is
repeated, with new booking, request and identity ids for each copy (so re-bookings stay within a
copy), until it holds ``--bookings`` bookings: about a national year (10.3 million admissions). The
figures of each query are checked against ``stats.outcomes`` on the store itself first, and their
totals against the copy count after. Prints seconds per query as JSON (last line of stdout), beside
the seconds of a plain ``count(*)`` over the same table (the baseline).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from custody.stats.outcomes import outcomes
from custody.stats.warehouse import Warehouse, load_process, process_outcomes
from custody.store import db

REPEATED = {
    "process_bookings": "id || '#' || k AS id, agency, state, person || '#' || k AS person, booked_at, left_custody_at",
    "process_requests": "id || '#' || k AS id, booking_id || '#' || k AS booking_id, agency, state",
    "process_answers": "request_id || '#' || k AS request_id, agency, action, answer",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a simulated custody store")
    parser.add_argument("--bookings", type=int, default=10_300_000)
    parser.add_argument("--duckdb", default=":memory:", help="a DuckDB file, or in memory")
    args = parser.parse_args()
    engine = db.make_engine(args.url)
    warehouse = Warehouse(None if args.duckdb == ":memory:" else Path(args.duckdb))
    with Session(engine) as session:
        began = time.perf_counter()
        stored = load_process(warehouse, session)
        loaded = time.perf_counter() - began
        expected = outcomes(session)
    expected.pop("caveats")
    if process_outcomes(warehouse) != expected:
        sys.exit("the DuckDB figures differ from stats.outcomes on the store itself")
    copies = max(1, math.ceil(args.bookings / stored))
    began = time.perf_counter()
    for table, columns in REPEATED.items():
        warehouse.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} FROM {table}, range({copies}) r(k)")
    repeated = time.perf_counter() - began
    bookings = warehouse.rows("SELECT count(*) FROM process_bookings")[0][0]
    began = time.perf_counter()
    warehouse.rows("SELECT count(*), count(DISTINCT person) FROM process_bookings")
    baseline = time.perf_counter() - began
    seconds: dict[str, float] = {}
    scaled = process_outcomes(warehouse, seconds=seconds)
    if scaled["releases"] != copies * expected["releases"]:
        sys.exit("the repeated store does not give the repeated figures")
    figures = {
        "store_bookings": stored,
        "copies": copies,
        "bookings": bookings,
        "load_seconds": round(loaded, 3),
        "repeat_seconds": round(repeated, 3),
        "baseline_count_seconds": round(baseline, 3),
        "query_seconds": {k: round(v, 3) for k, v in seconds.items()},
        "slowest_query_seconds": round(max(seconds.values()), 3),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcomes": scaled,
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
