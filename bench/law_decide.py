"""Benchmark of the law engine (issue 3): decisions per second on one core over generated requests
spread across every jurisdiction of the library and the dates its forms cover; p50/p99 latency of a
single decision with its decision-log record; peak memory of loading the library. Printed beside a
baseline run in the same process (a table lookup of precomputed answers), as a ratio: this machine
is shared and noisy, so only ratios and same-run figures mean anything.

    .venv/bin/python bench/law_decide.py [--requests 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import tracemalloc
from datetime import date, timedelta
from typing import Any

from custody.law.engine import decide
from custody.law.loader import load_library
from custody.law.log import decision_row

ACTIONS = ["hold", "notify", "transfer", "share_info", "access"]
FORMS = {
    "I-247": (date(2011, 1, 1), date(2015, 7, 1)),
    "I-247D": (date(2015, 7, 2), date(2017, 4, 1)),
    "I-247N": (date(2015, 7, 2), date(2017, 4, 1)),
    "I-247A": (date(2017, 4, 2), date(2026, 11, 1)),
}


def generate(n: int, seed: int, divisions: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    requests = []
    for _ in range(n):
        form = rng.choice(list(FORMS))
        start, end = FORMS[form]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tracemalloc.start()
    library = load_library()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    divisions = sorted({j.division.id for j in library.jurisdictions.values() if j.division.state})
    divisions += [d + suffix for d in divisions if d.count("/") == 2 for suffix in ("/county:other", "/place:other")]
    requests = generate(args.requests, args.seed, divisions)

    started = time.perf_counter()
    answers = [decide(r, library).to_contract() for r in requests]
    batch_s = time.perf_counter() - started

    # Baseline: the same answers looked up in a table of precomputed results.
    table = {json.dumps(r, sort_keys=True): a for r, a in zip(requests, answers, strict=True)}
    keys = [json.dumps(r, sort_keys=True) for r in requests]
    started = time.perf_counter()
    for key in keys:
        table[key]
    lookup_s = time.perf_counter() - started

    latencies = []
    for request in requests[: min(2000, len(requests))]:
        t0 = time.perf_counter_ns()
        decision = decide(request, library)
        decision_row(decision, request, None, None)
        latencies.append((time.perf_counter_ns() - t0) / 1000)
    latencies.sort()
    statuses = statistics.multimode(s["status"] for a in answers for s in a["actions"].values())

    print(
        f"law library: {len(set(map(id, library.jurisdictions.values())))} jurisdictions, "
        f"revision {library.revision}, peak memory while loading {peak / 1e6:.1f} MB"
    )
    print(f"requests: {len(requests)} across {len(divisions)} divisions; most common status: {statuses}")
    print(f"batch: {len(requests) / batch_s:,.0f} decisions/s on one core")
    print(f"baseline (precomputed table lookup): {len(requests) / lookup_s:,.0f} lookups/s")
    print(f"ratio decisions/lookups: {lookup_s / batch_s:.4f}")
    print(
        f"single decision with its log record: p50 {latencies[len(latencies) // 2]:.0f} µs, "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.0f} µs"
    )


if __name__ == "__main__":
    main()
