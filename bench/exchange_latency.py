"""How long a booking waits for its identification when `custody worker` processes carry the
exchange (issues 8 and 9): from the booking's commit to the agency's record of the federal answer,
two hops (the submission to the federal worker, the answer back to the local one).

Bookings are made one at a time, a pause apart, so the workers are idle when each arrives: the
figure is the exchange's latency, not its throughput (bench/exchange_throughput.py and
`custody bench e2e --workers N` measure that). Baseline in the same run: the same bookings on a
fresh store of the same kind with the exchange applied in this process (``inline``), the floor of
the two hops' work without any process boundary. Ratio = workers' median / inline median.

    .venv/bin/python bench/exchange_latency.py [--bookings 40] [--store postgres|sqlite] [--transport inproc|nats]

On PostgreSQL a worker is woken by the message's commit (migration 0007, exchange/wakeup.py); on
SQLite it polls every 0.2 s, so expect a tenth of a second a hop there.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from custody.booking.commands import BookingIn
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import InboxRow, MessageRow
from custody.store.scratch import drop_scratch, scratch_store

PATIENCE = 30.0  # seconds a booking may wait before the run is declared stuck


def _booking(run: str, i: int) -> BookingIn:
    return BookingIn.model_validate(
        {
            "agency": seed_scenarios.COOK,
            "booking_number": f"LAT-{run}-{i:05d}",
            "booked_at": "2017-08-16T01:00:00-05:00",
            "person": {"last_name": "Latency", "first_name": f"P{i}", "date_of_birth": "1990-01-01"},
            "charges": [{"offense": "theft", "level": "misdemeanor"}],
        }
    )


def _all_applied(custody: Custody) -> bool:
    with custody.engine.connect() as conn:
        sent = conn.scalar(select(func.count()).select_from(MessageRow)) or 0
        applied = conn.scalar(select(func.count()).select_from(InboxRow)) or 0
    return sent > 0 and applied >= sent


@contextmanager
def _workers(url: str, transport: str, prefix: str) -> Iterator[None]:
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_NATS_PREFIX": prefix, "CUSTODY_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "custody", "worker", "--transport", transport]
    workers = [
        subprocess.Popen([*command, "--party", party], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for party in ("federal", "local:*")
    ]
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a tree before the NATS worker's quick exit took 30 s
                worker.kill()


def through_workers(url: str, transport: str, bookings: int, pause: float) -> list[float]:
    custody = Custody.open(url, transport=transport, inline=False)
    run = uuid.uuid4().hex[:6]
    with _workers(url, transport, f"lat{run}"):
        custody.book(_booking(run, -1))  # the workers are up once this one's answer is back
        _wait(custody, time.monotonic() + 60)
        seconds = []
        for i in range(bookings):
            time.sleep(pause)
            started = time.perf_counter()
            custody.book(_booking(run, i))
            _wait(custody, time.monotonic() + PATIENCE)
            seconds.append(time.perf_counter() - started)
    custody.engine.dispose()
    return seconds


def _wait(custody: Custody, deadline: float) -> None:
    while not _all_applied(custody):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not apply the booking's messages in time; are they running?")
        time.sleep(0.002)


def inline(url: str, bookings: int, pause: float) -> list[float]:
    custody = Custody.open(url)
    run = uuid.uuid4().hex[:6]
    seconds = []
    for i in range(bookings):
        time.sleep(pause)
        started = time.perf_counter()
        custody.book(_booking(run, i))  # returns once both hops are applied, in this process
        seconds.append(time.perf_counter() - started)
    if not _all_applied(custody):
        raise RuntimeError("the inline exchange left messages unapplied")
    custody.engine.dispose()
    return seconds


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=40)
    parser.add_argument("--store", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--transport", choices=["inproc", "nats"], default="inproc")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between two bookings")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custody-latency-"))
    urls = [scratch_store(args.store, folder, name) for name in ("latency_inline", "latency_workers")]
    try:
        print(f"inline: {args.bookings} bookings, one every {args.pause} s", file=sys.stderr)
        base = inline(urls[0], args.bookings, args.pause)
        print(f"workers ({args.transport}): the same", file=sys.stderr)
        workers = through_workers(urls[1], args.transport, args.bookings, args.pause)
    finally:
        for url in urls:
            drop_scratch(url)
    figures: dict[str, Any] = {
        "store": args.store,
        "transport": args.transport,
        "bookings": args.bookings,
        "inline": _summary(base),
        "workers": _summary(workers),
        "ratio_p50": round(statistics.median(workers) / statistics.median(base), 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
