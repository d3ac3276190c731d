"""End-to-end benchmark of the whole process against the raw-store baseline (issue 8).

    .venv/bin/python bench/e2e.py --bookings 2000            # figures as JSON (last line of stdout)
    .venv/bin/python bench/e2e.py --bookings 1000 --profile  # and a pyinstrument profile on stderr
    .venv/bin/python bench/e2e.py --bookings 2000 --repeat 5 # medians of 5 passes of each

Same as `custody bench e2e --bookings N --json`; figures are ratios against the baseline measured in
the same run, never timed assertions.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from custody.sim.bench import run_e2e


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="passes of the process and its baseline (medians)")
    parser.add_argument("--profile", action="store_true", help="profile the run with pyinstrument (stderr)")
    args = parser.parse_args()
    console = Console(stderr=True)
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
        figures = run_e2e(args.bookings, args.seed, console, repeat=args.repeat)
        profiler.stop()
        sys.stderr.write(profiler.output_text(unicode=False, color=False, show_all=False))
    else:
        figures = run_e2e(args.bookings, args.seed, console, repeat=args.repeat)
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
