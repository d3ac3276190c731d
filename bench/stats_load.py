"""Benchmark: checking and loading the shipped data sets into DuckDB, against a plain csv.reader pass
over the same files in the same run (the baseline). Prints ratios, not absolute targets.

    .venv/bin/python bench/stats_load.py [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable

from custody.stats.claims import check_claims
from custody.stats.datasets import DATASETS
from custody.stats.warehouse import Warehouse

SHIPPED = [d for d in DATASETS.values() if d.shipped_path is not None]


def baseline() -> None:
    for ds in SHIPPED:
        assert ds.shipped_path is not None
        with ds.shipped_path.open(newline="", encoding="utf-8") as handle:
            for _ in csv.reader(handle):
                pass


def load() -> None:
    w = Warehouse()
    for ds in SHIPPED:
        w.table(ds)
    w.close()


def load_and_check_claims() -> None:
    w = Warehouse()
    check_claims(w)
    w.close()


def best(work: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    base = best(baseline, repeat)
    size = sum(ds.shipped_path.stat().st_size for ds in SHIPPED if ds.shipped_path)
    print(f"baseline: csv.reader over {len(SHIPPED)} shipped files, {size / 1e6:.1f} MB")
    for name, work in (("checked typed load", load), ("load + all claims", load_and_check_claims)):
        print(f"{name}: {best(work, repeat) / base:.1f}x baseline")


if __name__ == "__main__":
    main()
