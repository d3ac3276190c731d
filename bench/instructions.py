"""Instructions the end-to-end benchmark executes, counted by valgrind's callgrind: a figure that does
not drift with the machine's load (issue 8; the same tree's CPU seconds vary by ±25 % on these shared
machines, its instruction count by less than 0.5 % with PYTHONHASHSEED fixed).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=var/process.cg \\
        .venv/bin/python bench/instructions.py --bookings 1000 --part process
    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=var/baseline.cg \\
        .venv/bin/python bench/instructions.py --bookings 1000 --part baseline

callgrind prints "Collected : N" on stderr: the instructions of that part alone (the simulation, or
the baseline's inserts with the migration of its fresh store), nothing of start-up. Compare two trees
with ``PYTHONPATH=<tree>/src``; ``callgrind_annotate`` shows where the instructions went. About 60×
slower than a plain run: 1,000 bookings take about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

from custody.sim import bench
from custody.sim.engine import Simulation


def _counting(part: Callable[..., Any]) -> Callable[..., Any]:
    """``part`` with callgrind's instrumentation on while it runs (off before and after)."""

    def toggle(state: str) -> None:
        control = subprocess.Popen(
            ["callgrind_control", "--instr=" + state, str(os.getpid())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while control.poll() is None:  # keep running guest code: callgrind takes commands between blocks
            sum(range(1000))

    def counted(*args: Any, **kwargs: Any) -> Any:
        toggle("on")
        try:
            return part(*args, **kwargs)
        finally:
            toggle("off")

    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--part", choices=("process", "baseline"), default="process")
    args = parser.parse_args()
    if args.part == "process":
        Simulation.run = _counting(Simulation.run)  # type: ignore[method-assign]
    else:
        bench.baseline = _counting(bench.baseline)
    figures = bench.run_e2e(args.bookings, args.seed, Console(stderr=True, quiet=True))
    sys.stdout.write(json.dumps({k: figures[k] for k in ("bookings", "rows", "cpu_seconds")}) + "\n")


if __name__ == "__main__":
    main()
