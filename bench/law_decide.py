"""Benchmark of the law engine (issue 3): decisions per second on one core over generated requests
spread across every jurisdiction of the library and the dates its forms cover; p50/p99 latency of a
single decision with its decision-log record; peak memory of loading the library. Printed beside a
baseline run in the same process (a table lookup of precomputed answers), as a ratio: this machine
is shared and noisy, so only ratios and same-run figures mean anything. CPU time (the process's,
not the wall clock's) is printed beside each rate, as other work on the machine inflates wall time.

The batch runs twice: "cold" on a freshly loaded library (every plan and kept decision is made
during the run) and "warm" over the same requests again (each is still validated, decided, given
its own id and turned into Decision JSON).

    .venv/bin/python bench/law_decide.py [--requests 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from custody.law.engine import decide
from custody.law.loader import Library, load_library
from custody.law.log import decision_row

ACTIONS = ["hold", "notify", "transfer", "share_info", "access"]
FORMS = ("I-247", "I-247D", "I-247N", "I-247A")  # drawn over the days each could be issued


def generate(n: int, seed: int, divisions: list[str], library: Library) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    periods = {name: library.forms[name].issue_dates(date(2011, 1, 1), date(2026, 11, 1)) for name in FORMS}
    requests = []
    for _ in range(n):
        form = rng.choice(FORMS)
        start, end = periods[form]
        on = start + timedelta(days=rng.randrange((end - start).days + 1))
        offense = {
            "offense": "offense",
            "level": rng.choice(["felony", "misdemeanor"]),
            "violent": rng.random() < 0.3,
            "serious": rng.random() < 0.3,
            "date": (on - timedelta(days=rng.randrange(1, 7000))).isoformat(),
        }
        requests.append(
            {
                "agency": rng.choice(divisions),
                "on": on.isoformat(),
                "request": {
                    "form": form,
                    "actions": rng.sample(ACTIONS, rng.randint(1, 3)),
                    "warrant": rng.choice(["none", "administrative", "judicial_criminal"]),
                },
                "person": {
                    "convictions": [offense] if rng.random() < 0.4 else [],
                    "pending_charges": [{**offense, "level": "felony"}] if rng.random() < 0.3 else [],
                    "gang_database": rng.random() < 0.05,
                },
            }
        )
    return requests


class CycleCollection:
    """CPU seconds Python's cycle collector spent while a run kept its results: each full
    collection walks every object of the process, the imported modules' included."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def timed(run: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """The run's result, wall seconds, CPU seconds of this process, and CPU seconds collecting cycles."""
    gc.collect()  # each run starts with nothing left over for the collector from the one before
    collection = CycleCollection()
    gc.callbacks.append(collection)
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    gc.callbacks.remove(collection)
    return result, wall, cpu, collection.seconds


def decisions(requests: list[dict[str, Any]], library: Library) -> list[Any]:
    return [decide(r, library) for r in requests]


def decision_json(requests: list[dict[str, Any]], library: Library) -> list[dict[str, Any]]:
    return [decide(r, library).to_contract() for r in requests]


def baseline(requests: list[dict[str, Any]], answers: list[dict[str, Any]]) -> tuple[float, float]:
    """Wall and CPU seconds to look the same answers up in a table of precomputed results."""
    table = {json.dumps(r, sort_keys=True): a for r, a in zip(requests, answers, strict=True)}
    keys = [json.dumps(r, sort_keys=True) for r in requests]

    def lookup() -> None:
        for key in keys:
            table[key]

    _, wall, cpu, _ = timed(lookup)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tracemalloc.start()
    library = load_library()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    divisions = sorted({j.division.id for j in library.jurisdictions.values() if j.division.state})
    divisions += [d + suffix for d in divisions if d.count("/") == 2 for suffix in ("/county:other", "/place:other")]
    requests = generate(args.requests, args.seed, divisions, library)
    n = len(requests)

    decide(requests[0], library)  # the request validator compiles once per process, outside the timings
    # Each batch keeps its results, as a caller would; "cold" on a library loaded just before.
    runs = []
    for name, batch in [("Decision objects", decisions), ("Decision JSON", decision_json)]:
        fresh = load_library()
        cold = timed(lambda: batch(requests, fresh))[1:]  # noqa: B023 - called at once
        warm = timed(lambda: batch(requests, fresh))[1:]  # noqa: B023
        runs += [(f"{name}, cold library", *cold), (f"{name}, warm library", *warm)]

    answers = decision_json(requests, fresh)
    lookup_wall, lookup_cpu = baseline(requests, answers)
    statuses = statistics.multimode(s["status"] for a in answers for s in a["actions"].values())
    del answers  # the single decisions below run without the batches' results around

    # One at a time on the library that decided the batches. Wall time counts what the machine's
    # other work takes from this process too; the thread's CPU time is what a decision costs on one core.
    walls, cpus = [], []
    for request in requests[: min(2000, n)]:
        started_wall, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
        decision = decide(request, fresh)
        decision_row(decision, request, None, None)
        cpus.append((time.thread_time_ns() - started_cpu) / 1000)
        walls.append((time.perf_counter_ns() - started_wall) / 1000)
    walls.sort()
    cpus.sort()

    # What a library keeps once it has decided the batch: its plans and kept decisions.
    fresh = load_library()
    tracemalloc.start()
    decisions(requests, fresh)
    kept = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*custody/law/*")])
    tracemalloc.stop()
    kept_mb = sum(stat.size for stat in kept.statistics("filename")) / 1e6

    print(
        f"law library: {len(set(map(id, library.jurisdictions.values())))} jurisdictions, "
        f"revision {library.revision}; peak memory while loading {peak / 1e6:.1f} MB, "
        f"held once loaded {held / 1e6:.1f} MB; plans and kept decisions after the batch {kept_mb:.1f} MB"
    )
    print(f"requests: {n} across {len(divisions)} divisions; most common status: {statuses}")
    print(f"baseline (precomputed table lookup): {n / lookup_wall:,.0f} lookups/s wall, {n / lookup_cpu:,.0f} CPU")
    for name, wall, cpu, collecting in runs:
        print(
            f"batch to {name}: {n / wall:,.0f} decisions/s wall, {n / cpu:,.0f} CPU "
            f"(collecting cycles {collecting / cpu:.0%} of it; {n / (cpu - collecting):,.0f}/s CPU without); "
            f"ratio to lookups {lookup_wall / wall:.4f} wall, {lookup_cpu / cpu:.4f} CPU"
        )
    for name, times in [("wall", walls), ("CPU", cpus)]:
        print(
            f"single decision with its log record, {name}: p50 {times[len(times) // 2]:.0f} µs, "
            f"p99 {times[int(len(times) * 0.99)]:.0f} µs"
        )


if __name__ == "__main__":
    main()
