"""Benchmark: what the simulation's journal (custody.sim.journal, written so a killed run resumes)
costs. The same simulation runs with its journal and without, alternating, each on a fresh SQLite
store in the same process; prints the CPU seconds of each, their ratio, the journal's rows and
bytes against the store's size, and the time a resume takes to read the journal back.

    .venv/bin/python bench/sim_journal.py [--days 3] [--scale national] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from custody.domain.clock import ManualClock
from custody.sim import agencies
from custody.sim.arrests import ArrestStream
from custody.sim.engine import Simulation
from custody.sim.journal import Journal
from custody.sim.run import DEFAULT_START, open_store
from custody.store.models import SimulationJournalRow


def one(folder: Path, name: str, days: int, scale: str, journalled: bool) -> dict[str, Any]:
    chosen, _ = agencies.select(scale, 1, None if scale != "national" else 0.1)
    path = folder / f"{name}.db"
    clock = ManualClock(datetime.combine(DEFAULT_START, datetime.min.time(), tzinfo=UTC))
    service = open_store(f"sqlite:///{path}", clock, "inproc")
    journal = Journal(service, "S1-", {"bench": True}) if journalled else None
    simulation = Simulation(service, clock, ArrestStream(chosen, 1, DEFAULT_START), days, journal=journal)
    cpu = time.process_time()
    tally = simulation.run()
    figures: dict[str, Any] = {"cpu_s": time.process_time() - cpu, "bookings": tally.arrests}
    if journal is not None:
        with service.read() as unit:
            rows, size = unit.session.execute(
                select(func.count(), func.sum(func.length(SimulationJournalRow.state)))
            ).one()
        again = Simulation(service, clock, ArrestStream(chosen, 1, DEFAULT_START), days)
        began = time.perf_counter()
        Journal(service, "S1-", {"bench": True}).restore(again)
        figures |= {"journal_rows": rows, "journal_bytes": int(size or 0), "restore_s": time.perf_counter() - began}
    service.engine.dispose()
    figures["store_bytes"] = sum(p.stat().st_size for p in folder.glob(f"{name}.db*"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--scale", default="national")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for journalled in (False, True):
                figures = one(Path(tmp), f"run{i}-{int(journalled)}", args.days, args.scale, journalled)
                runs[journalled].append(figures)
                print(f"pass {i + 1}, journal {'on' if journalled else 'off'}: {figures}", file=sys.stderr)
    plain = statistics.median(r["cpu_s"] for r in runs[False])
    kept = statistics.median(r["cpu_s"] for r in runs[True])
    last = runs[True][-1]
    result = {
        "days": args.days,
        "scale": args.scale,
        "bookings": last["bookings"],
        "cpu_s_without_journal": round(plain, 3),
        "cpu_s_with_journal": round(kept, 3),
        "cpu_ratio": round(kept / plain, 3),
        "journal_rows": last["journal_rows"],
        "journal_bytes": last["journal_bytes"],
        "journal_share_of_store": round(last["journal_bytes"] / last["store_bytes"], 4),
        "restore_s": round(last["restore_s"], 3),
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
