"""`custody bench e2e`: bookings per second through the whole process on the embedded default
(SQLite, in-process transport), beside the raw-store baseline measured in the same run.

The process: every booking is booked, submitted to the federal side, identified, answered; where
the synthetic stream says so a request is issued, received, decided under the law, served,
answered; then the person is released, held, handed over or the hold lapses. The baseline: the
very rows the process wrote for those bookings (every table), inserted again with plain batched
INSERTs (SQLAlchemy Core executemany, 1,000 rows a transaction) into a fresh store of the same kind.
``ratio`` = process speed / baseline speed over the same rows (1.0 would mean the process costs no
more than writing its own rows).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, func, insert, select

from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.exchange import envelope
from custody.law import engine as law_engine
from custody.service import Custody
from custody.sim import agencies as agency_set
from custody.sim import calibration as cal
from custody.sim import print_search
from custody.sim.agencies import Agency
from custody.sim.arrests import Arrest, ArrestStream
from custody.sim.collector import loaded_objects_frozen
from custody.sim.engine import Simulation, Tally
from custody.sim.run import drop_stream, nats_delivery, open_store
from custody.store import db
from custody.store.clock import StoredClock
from custody.store.models import Base, DeadLetterRow, InboxRow, MessageRow
from custody.store.scratch import drop_scratch, scratch_store

BENCH_START = date(2019, 10, 1)
MAX_STAY = timedelta(hours=20)  # every booking runs to its end within the bench's two days
BATCH = 1000
WORKER_PATIENCE = 120.0  # seconds without progress before the benchmark gives up on its workers
# Sent, applied and dead-lettered messages counted in one statement, so in one snapshot: counted one
# after the other, messages sent while the count ran made a run look finished with 16 of its 40
# messages still unapplied (a workers' answer is written in the transaction that applies its cause).
COUNTS = select(*(select(func.count()).select_from(t).scalar_subquery() for t in (MessageRow, InboxRow, DeadLetterRow)))


class FixedStream(ArrestStream):
    """Exactly ``count`` arrests on the first day, each ending within the run; no re-arrests."""

    def __init__(self, agencies: list[Agency], seed: int, start: date, count: int) -> None:
        super().__init__(agencies, seed, start)
        arrests: list[Arrest] = []
        offset = 0
        while len(arrests) < count:
            arrests += super().day(offset)
            offset += 1
        day0 = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
        span = timedelta(hours=12)
        self.arrests = sorted(
            (
                dataclasses.replace(
                    a,
                    at=(day0 + span * (i / count)).astimezone(a.zone),
                    stay=min(a.stay, MAX_STAY),
                    request=dataclasses.replace(a.request, after=min(a.request.after, a.stay / 2, MAX_STAY / 2))
                    if a.request
                    else None,
                    rearrest_after=timedelta(days=10_000),
                )
                for i, a in enumerate(arrests[:count])
            ),
            key=lambda a: a.at,
        )

    def day(self, offset: int) -> list[Arrest]:
        return self.arrests if offset == 0 else []


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in Base.metadata.sorted_tables}


def baseline(rows: dict[str, list[dict[str, Any]]], url: str) -> tuple[float, float]:
    """Seconds (wall, CPU of this process) to insert ``rows`` again into a fresh, migrated store at
    ``url`` in batches."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    began, cpu = time.perf_counter(), time.process_time()
    for table in Base.metadata.sorted_tables:
        chunk = rows.get(table.name, [])
        for i in range(0, len(chunk), BATCH):
            with engine.begin() as conn:
                conn.execute(insert(table), chunk[i : i + BATCH])
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu


@contextmanager
def worker_processes(url: str, transport: str, per_party: int, prefix: str) -> Iterator[None]:
    """``per_party`` `custody worker` processes for the federal side and as many for every local
    agency, on the store's shared clock; stopped (SIGTERM) when the block ends."""
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_NATS_PREFIX": prefix, "CUSTODY_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from custody.cli.main import main; main()", "worker", "--clock", "stored"]
    # stdout is the benchmark's own (its --json figures); the workers' warnings and errors go to stderr.
    workers = [
        subprocess.Popen([*command, "--party", party, "--transport", transport], env=env, stdout=subprocess.DEVNULL)
        for party in ("federal", "local:*")
        for _ in range(per_party)
    ]
    try:
        yield
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


def wait_for_workers(service: Custody, clock: ManualClock, stored: StoredClock) -> Callable[[], int]:
    """The simulator's delivery when worker processes apply the messages: move the shared clock to
    the simulator's, then wait until every message sent has been applied or dead-lettered."""

    def deliver() -> int:
        stored.set(clock.now())
        waited, last = 0.0, -1
        while True:
            with service.engine.connect() as conn:
                sent, applied, dead = (int(n) for n in conn.execute(COUNTS).one())
            if applied + dead >= sent:
                return applied + dead
            if applied + dead != last:
                waited, last = 0.0, applied + dead
            elif waited > WORKER_PATIENCE:
                raise RuntimeError(f"the workers applied nothing for {WORKER_PATIENCE:.0f} s ({last} of {sent})")
            time.sleep(0.01)
            waited += 0.01

    return deliver


def decision_documents(arrests: list[Arrest]) -> list[dict[str, Any]]:
    """A detainer DecisionRequest for every arrest, with its own agency, date, charge and record."""
    documents = []
    for a in arrests:
        day = a.at.date()
        document = agency_set.reference_request(a.agency, day)
        document["person"]["pending_charges"] = [
            {"offense": a.offense, "level": "felony" if a.felony else "misdemeanor", "violent": a.violent}
        ]
        if a.person.prior_felony_on:
            document["person"]["convictions"] = [
                {"offense": "burglary", "level": "felony", "date": a.person.prior_felony_on.isoformat()}
            ]
        document["person"]["gang_database"] = a.person.gang_database
        document["person"]["outstanding_criminal_warrant"] = a.outstanding_warrant
        documents.append(document)
    return documents


def law_decisions_per_s(documents: list[dict[str, Any]]) -> float:
    law_engine.decide(documents[0])  # the library loads once, outside the timing
    began = time.perf_counter()
    for document in documents:
        law_engine.decide(document)
    return len(documents) / (time.perf_counter() - began)


@dataclasses.dataclass
class Run:
    """One pass of the process and of its baseline over the same rows."""

    tally: Tally
    arrests: list[Arrest]
    seconds: float
    cpu: float
    rows: dict[str, int]
    base_seconds: float
    base_cpu: float

    @property
    def count(self) -> int:
        return sum(self.rows.values())


def run_e2e(
    bookings: int,
    seed: int,
    console: Console,
    workdir: Path | None = None,
    store: str = "sqlite",
    transport: str = "inproc",
    workers: int = 0,
    gallery: int = 0,
    repeat: int = 1,
) -> dict[str, Any]:
    """``workers`` 0: messages are applied in this process, in batches; N: by N `custody worker`
    processes for the federal side and N for the local agencies. ``gallery``: identities of the
    print gallery whose search is measured beside the process (``print_search``; 0: not measured).
    ``repeat``: the process and its baseline run this many times, one after the other, each on fresh
    stores; the figures are the medians, the ratios each pass's own (a shared machine's speed drifts
    by a quarter within a minute, and one pass of each can land on either side of it)."""
    for name, value, least in (("--bookings", bookings, 1), ("--repeat", repeat, 1), ("--workers", workers, 0)):
        if value < least:
            raise InvalidInput(f"{name} must be at least {least}, not {value}")
    if gallery < 0:
        raise InvalidInput(f"--gallery must be 0 (not measured) or more, not {gallery}")
    folder = Path(workdir or tempfile.mkdtemp(prefix="custody-bench-"))
    # A sample of the nation whose day holds about the bookings asked for (the library's always kept).
    per_day = cal.ADMISSIONS_PER_YEAR.value / 365
    chosen, _ = agency_set.select("national", seed, min(1.0, 1.2 * bookings / per_day))
    runs = []
    for i in range(repeat):
        if repeat > 1:
            console.print(f"pass {i + 1} of {repeat}")
        runs.append(_one_pass(chosen, bookings, seed, console, folder, store, transport, workers))
    decisions = law_decisions_per_s(decision_documents(runs[-1].arrests))
    if gallery:
        console.print(f"print search beside the process: a gallery of {gallery:,} synthetic identities")
        searched = print_search.measure(gallery, seed)
    last = runs[-1]
    seconds, cpu = median(r.seconds for r in runs), median(r.cpu for r in runs)
    base, base_cpu = median(r.base_seconds for r in runs), median(r.base_cpu for r in runs)
    count = last.count
    return {
        "bookings": last.tally.arrests,
        "requests": last.tally.requests_issued,
        "seconds": round(seconds, 3),
        "bookings_per_s": round(last.tally.arrests / seconds, 1),
        "cpu_seconds": round(cpu, 3),  # the machine may be shared: CPU time shows what waited on others
        "bookings_per_cpu_s": round(last.tally.arrests / cpu, 1),
        "rows": count,
        "rows_by_table": {k: n for k, n in last.rows.items() if n},
        "process_rows_per_s": round(count / seconds, 1),
        "baseline_seconds": round(base, 3),
        "baseline_cpu_seconds": round(base_cpu, 3),
        "baseline_rows_per_s": round(count / base, 1),
        "baseline_bookings_per_s": round(last.tally.arrests / base, 1),
        # Each pass's baseline against its own process, the median of the passes.
        "ratio": round(median(r.base_seconds / r.seconds for r in runs), 4),
        # The same ratio in this process's CPU time; with worker processes it leaves their CPU out.
        "cpu_ratio": round(median(r.base_cpu / r.cpu for r in runs), 4),
        "repeat": repeat,
        **({"ratios": [round(r.base_seconds / r.seconds, 4) for r in runs]} if repeat > 1 else {}),
        "law_decisions_per_s": round(decisions, 1),
        # Identification above is by identifiers; a print search per booking would cost this (one core).
        **({"print_search": searched} if gallery else {}),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store": store,
        "transport": transport,
        "worker_processes": 2 * workers,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "errors": dict(last.tally.errors),
    }


def _one_pass(
    chosen: list[Agency],
    bookings: int,
    seed: int,
    console: Console,
    folder: Path,
    store: str,
    transport: str,
    workers: int,
) -> Run:
    """The process over ``bookings`` arrests on a fresh store, then its rows inserted again into
    another (the baseline); both stores are dropped after."""
    stream = FixedStream(chosen, seed, BENCH_START, bookings)
    clock = ManualClock(datetime.combine(BENCH_START, datetime.min.time(), tzinfo=UTC))
    url, base_url = scratch_store(store, folder, "bench_process"), scratch_store(store, folder, "bench_baseline")
    service = open_store(url, clock, transport)
    prefix = f"custodybench{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        deliver: Callable[[], int] | None = None
        if workers:
            stored = StoredClock(service.engine)
            stored.set(clock.now())
            stack.enter_context(worker_processes(url, transport, workers, prefix))
            deliver = wait_for_workers(service, clock, stored)
        elif transport == "nats":
            deliver, close = nats_delivery(service, prefix)
            stack.callback(close)
        progress = stack.enter_context(
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
        )
        task = progress.add_task("bookings through the process", total=bookings)
        simulation = Simulation(
            service,
            clock,
            stream,
            2,
            deliver,
            progress=lambda what, n: progress.update(task, completed=n) if what == "booking" else None,
            batched=not workers,
        )
        envelope.prepare()  # a server compiles its schemas when it starts, not at its first messages
        stack.enter_context(loaded_objects_frozen())  # and freezes what it loaded (sim/collector.py)
        began, cpu = time.perf_counter(), time.process_time()
        tally = simulation.run()
        e2e, cpu = time.perf_counter() - began, time.process_time() - cpu
    rows = _rows(service.engine)
    service.engine.dispose()
    console.print(f"baseline: {sum(len(r) for r in rows.values()):,} rows inserted again")
    base, base_cpu = baseline(rows, base_url)
    drop_scratch(url)
    drop_scratch(base_url)
    if transport == "nats":
        asyncio.run(drop_stream(prefix))
    return Run(tally, stream.arrests, e2e, cpu, {k: len(v) for k, v in rows.items()}, base, base_cpu)
