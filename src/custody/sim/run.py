"""One simulation from options to report: choose the agencies, open the store, run the arrests
through the process (and, for a reform, the same arrests again in a store of their own), and read
the outcomes back from the store."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, InvalidInput, StoreUnavailable
from custody.law.loader import default_library
from custody.observability import masked
from custody.service import Custody
from custody.sim import agencies as agency_set
from custody.sim import calibration as cal
from custody.sim import reform as reforms
from custody.sim import report
from custody.sim.arrests import ArrestStream
from custody.sim.engine import Progress, Simulation, Tally
from custody.sim.journal import Journal, Stopped, peek
from custody.store import db
from custody.store.models import BookingRow
from custody.store.scratch import scratch_store

DEFAULT_START = date(2019, 10, 1)  # the first day of federal FY2020, after Florida SB 168 took effect
NATIONAL_SAMPLE = 0.1
MAX_SEED = 2**63 - 1  # the journal keeps the seed as a 64-bit integer; the generator takes none below 0


@dataclass(frozen=True)
class Options:
    days: int
    scale: str = "national"
    store: str = "sqlite"
    transport: str = "inproc"
    seed: int = 1
    start: date = DEFAULT_START
    sample: float | None = None
    url: str | None = None
    reform: reforms.Reform | None = None
    resume: bool = False  # carry on a run stopped before its end, from its journal (custody.sim.journal)

    @property
    def share(self) -> float:
        """The share of synthetic agencies kept: --sample, else a tenth of the nation, or all of a state."""
        if self.sample is not None:
            return self.sample
        return NATIONAL_SAMPLE if self.scale == "national" else 1.0

    def identity(self, reform: reforms.Reform | None) -> dict[str, Any]:
        """What makes a run the run it is: resuming with anything else would not continue it. (The
        transport too: messages sent over NATS have no place in the in-process queue.)"""
        return {
            "seed": self.seed,
            "days": self.days,
            "scale": self.scale,
            "start": self.start.isoformat(),
            "sample": self.share,
            "transport": self.transport,
            "reform": reform.label() if reform else None,
            # the law and the rates decide outcomes (and the library, which agencies there are)
            "law_revision": default_library().revision,
            "rates": cal.digest(),
        }


def store_url(store: str, url: str | None) -> str:
    if url:
        return url
    configured = os.environ.get("CUSTODY_DATABASE_URL", "")
    if store == "sqlite":
        if configured.startswith("sqlite"):
            return configured
        var = Path(os.environ.get("CUSTODY_VAR", "var"))
        var.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{var / 'custody.db'}"
    if store == "postgres":
        if configured.startswith("postgresql"):
            return configured
        raise InvalidInput(
            "--store postgres needs a PostgreSQL URL: set CUSTODY_DATABASE_URL=postgresql+psycopg://USER@HOST:5432/DB "
            "or pass --url"
        )
    raise InvalidInput(f"--store {store}: use sqlite or postgres")


def reform_url(url: str, seed: int, keep: bool = False) -> str:
    """A store of the same kind for the reformed run, beside the main one: replaced on each run, or
    ``keep`` as it is (a resumed run carries on there; see ``_reform_store``). In PostgreSQL its schema
    is named by the seed and the main store: named by the seed alone, two stores in one database
    shared it, and each run replaced the other's (found by a review)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return scratch_store("sqlite", path.parent, f"{path.stem}.reform-{seed}", unique=False, keep=keep)
    store = hashlib.sha256(url.encode()).hexdigest()[:8]
    return scratch_store("postgres", Path(), f"custody_sim_reform_{seed}_{store}", base=url, unique=False, keep=keep)


def open_store(url: str, clock: ManualClock, transport: str, reform: reforms.Reform | None = None) -> Custody:
    try:
        engine = db.make_engine(url)
        db.upgrade(engine)
    except (SQLAlchemyError, ImportError, OSError) as exc:  # ImportError: a database custody has no driver for
        raise StoreUnavailable(
            f"cannot open the store ({db.describe(exc)}); give sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from None
    return Custody(
        engine, clock, actor="simulator", transport=transport, inline=False, reform=reform.apply if reform else None
    )


def nats_prefix(url: str, options: Options) -> str:
    """A simulation's own JetStream stream and subjects, named by its store and seed: on the
    deployment's (``CUSTODY_NATS_PREFIX``) a `custody worker` or another simulation took its
    messages and it took theirs (found by a review). Derived, not drawn, so that a resumed run finds
    the messages it had published before it stopped."""
    digest = hashlib.sha256(f"{url}\n{options.seed}".encode()).hexdigest()[:12]
    return f"custodysim{digest}"


def _nats_url() -> str:
    from custody.exchange.nats import DEFAULT_URL

    return os.environ.get("CUSTODY_NATS_URL", DEFAULT_URL)


def nats_delivery(service: Custody, prefix: str) -> tuple[Callable[[], int], Callable[[], None]]:
    """Deliver over NATS JetStream in this process: relay the outbox, pull each party's messages and
    apply them, until nothing moves, on the stream and subjects under ``prefix`` (the run's own, so
    no other worker takes its messages)."""
    from custody.exchange.nats import NatsTransport

    loop = asyncio.new_event_loop()
    transport = NatsTransport(service, _nats_url(), prefix)
    loop.run_until_complete(transport.start())

    async def drain() -> int:
        total = 0
        while True:
            moved = await transport.relay(1000)
            for party in ("federal", "local:*"):
                moved += await transport.consume(party, batch=200, timeout=0.05)
            total += moved
            if not moved:
                return total

    def close() -> None:
        loop.run_until_complete(transport.close())
        loop.close()

    return (lambda: loop.run_until_complete(drain())), close


async def drop_stream(prefix: str) -> None:
    """A run's own JetStream stream goes once the run has finished (its consumers with it)."""
    import nats

    from custody.exchange.nats import stream_name

    client = await nats.connect(_nats_url(), connect_timeout=5)
    try:
        await client.jetstream().delete_stream(stream_name(prefix))
    finally:
        await client.close()


def _nothing() -> None:
    return None


def _clash(url: str, options: Options, stopped: Stopped | None) -> str:
    said = f"the store at {masked(url)} already holds bookings of a simulation with seed {options.seed}"
    if stopped is None:
        return (
            f"{said}, without a journal to carry it on from (written by a benchmark, or before custody kept "
            "one); use another --seed, or a fresh store with --url sqlite:///PATH"
        )
    if stopped.finished and options.reform is not None:
        reformed, _ = peek(reform_url(url, options.seed, keep=True), _prefix(options))
        if reformed is not None and not reformed.finished:
            return (
                f"{said}: it finished, and its reform run stopped at {reformed.simulated_to:%Y-%m-%d %H:%M} UTC "
                "(simulated), before its end: add --resume to carry that on from its last commit, or use another "
                "--seed or a fresh store"
            )
    where = (
        f"finished at {stopped.simulated_to:%Y-%m-%d %H:%M} UTC"
        if stopped.finished
        else (f"stopped at {stopped.simulated_to:%Y-%m-%d %H:%M} UTC (simulated), before its end")
    )
    what = "print its report again" if stopped.finished else "carry it on from its last commit"
    return f"{said}, {where}: add --resume to {what}, or use another --seed or a fresh store"


def _prefix(options: Options) -> str:
    """The run's booking numbers begin with this, and its journal is kept under it."""
    return f"S{options.seed}-"


def _reform_store(url: str, options: Options, reform: reforms.Reform) -> str:
    """The reformed run's store: kept when resuming the same run, made afresh otherwise (one left by
    another run, with other options, would refuse the resume; it is this command's scratch store)."""
    kept = reform_url(url, options.seed, keep=True)
    _, started = peek(kept, _prefix(options))
    if options.resume and started == options.identity(reform):
        return kept
    return reform_url(url, options.seed)


def resumed(options: Options, stopped: Stopped | None) -> str | None:
    """What --resume found, in words for the report: None without --resume."""
    if not options.resume:
        return None
    if stopped is None:
        return f"nothing to resume for seed {options.seed} in this store: started at the beginning"
    if stopped.finished:
        return "already finished: the report is read again from the store"
    return f"carried on from its last commit, at {stopped.simulated_to:%Y-%m-%d %H:%M} UTC (simulated)"


def _simulate(
    url: str, options: Options, chosen: list[agency_set.Agency], progress: Progress, reform: reforms.Reform | None
) -> tuple[Custody, Tally, datetime, Stopped | None]:
    """Run (or, resuming, carry on) one simulation; with where its journal had left it, if it had."""
    clock = ManualClock(datetime.combine(options.start, time(0), tzinfo=UTC))
    service = open_store(url, clock, options.transport, reform)
    prefix = _prefix(options)
    journal = Journal(service, prefix, options.identity(reform))
    with service.unit() as unit:
        clash = unit.session.scalar(select(BookingRow.id).where(BookingRow.booking_number.startswith(prefix)).limit(1))
    stopped = journal.stopped()
    if clash and not (options.resume and stopped):
        raise Conflict(_clash(url, options, stopped))
    if options.resume and stopped is None:
        progress("nothing to resume", 0)
    deliver: Callable[[], int] = service.deliver
    close: Callable[[], None] = _nothing
    if options.transport == "nats":
        deliver, close = nats_delivery(service, nats_prefix(url, options))
    stream = ArrestStream(chosen, options.seed, options.start)
    simulation = Simulation(service, clock, stream, options.days, deliver, progress, journal=journal)
    try:
        tally = simulation.run()
    finally:
        close()
    if options.transport == "nats":  # everything is delivered; a run stopped before keeps it to resume
        asyncio.run(drop_stream(nats_prefix(url, options)))
    return service, tally, simulation.end, stopped if options.resume else None


def check(options: Options) -> None:
    """Refuse, before anything runs, options the run could only fail on or report as refusals: a
    start before the law library (every request refused, exit 0) and a seed the generator refuses
    (negative) or the journal cannot write (past 64 bits) were found by a review."""
    if options.days < 1:
        raise InvalidInput("--days must be at least 1")
    if options.transport not in ("inproc", "nats"):
        raise InvalidInput(f"--transport {options.transport}: use inproc or nats")
    if not 0 <= options.seed <= MAX_SEED:
        raise InvalidInput(f"--seed {options.seed}: give a whole number from 0 to {MAX_SEED}")
    agency_set.within_library(options.start, f"--start {options.start}")


def simulate(options: Options, progress: Progress | None = None) -> dict[str, Any]:
    check(options)
    chosen, note = agency_set.select(options.scale, options.seed, options.share)
    reform = options.reform
    if reform is not None and reform.division not in {a.division for a in chosen}:
        raise InvalidInput(
            f"--reform: {reform.division} books nobody in this simulation; choose a --scale that includes it "
            "(national, its state, or division:it)"
        )
    progress = progress or (lambda what, n: None)
    url = store_url(options.store, options.url)
    service, tally, end, stopped = _simulate(url, options, chosen, progress, None)
    labels = _labels(chosen, options.start)
    prefix = _prefix(options)
    with service.unit() as unit:
        overall = report.measure(unit.session, end, report.Scope(prefix))
        policies = report.by_policy(unit.session, end, labels, prefix)
    result: dict[str, Any] = {
        "seed": options.seed,
        "days": options.days,
        "start": options.start.isoformat(),
        "scale": options.scale,
        "agencies": note,
        "store": options.store,
        "transport": options.transport,
        "resumed_from": stopped.simulated_to.isoformat() if stopped and not stopped.finished else None,
        "resume": resumed(options, stopped),
        "simulator": tally.as_dict(),
        "outcomes": overall,
        "by_policy": policies,
        "policy_on": options.start.isoformat(),
        "policy_changes": _label_changes(chosen, options.start, options.days),
        "rates": {k: {"value": r.value, "tag": r.tag, "source": r.source} for k, r in cal.ALL_RATES.items()},
        "rate_tags": cal.tags(),
        "caveat": report.CAVEAT,
        "rebookings_caveat": report.REBOOKINGS,
    }
    service.engine.dispose()
    if reform is not None:
        progress("reform", 0)
        reformed_service, reformed_tally, _, reformed = _simulate(
            _reform_store(url, options, reform), options, chosen, progress, reform
        )
        target = report.Scope(prefix, frozenset({reform.division}))
        with service.unit() as unit:
            base = report.measure(unit.session, end, target)
        with reformed_service.unit() as unit:
            changed = report.measure(unit.session, end, target)
        reformed_service.engine.dispose()
        result["reform"] = {
            "reform": reform.label(),
            "resume": resumed(options, reformed),
            **(
                {"note": f"no booking at {reform.division} in these {options.days} day(s): add --days to compare"}
                if base["bookings"] == 0
                else {}
            ),
            "division_policy": {
                "baseline": labels.get(reform.division, ""),
                "reform": agency_set.policy_label(
                    next(a for a in chosen if a.division == reform.division), options.start, reform.law_of, reform.on
                ),
            },
            "simulator": reformed_tally.as_dict(),
            "how": "requests at the division's agencies decided with a DecisionRequest naming "
            f"{reform.law_of} on {reform.on}; everything else unchanged (src/custody/sim/reform.py)",
            "compared": report.compare(base, changed),
            "baseline": base,
            "reformed": changed,
            "caveat": report.CAVEAT,
        }
    return result


def _standing_for(chosen: list[agency_set.Agency]) -> dict[str, tuple[agency_set.Agency, int]]:
    """The agencies whose policy speaks for others, by name, with how many each speaks for: a real
    jurisdiction for itself; one synthetic county for all of its state's (they share its law)."""
    standing: dict[str, tuple[agency_set.Agency, int]] = {}
    for agency in chosen:
        name = agency.division if agency.real else f"state:{agency.state} (synthetic counties)"
        first, count = standing.get(name, (agency, 0))
        standing[name] = (first, count + 1)
    return standing


def _labels(chosen: list[agency_set.Agency], on: date) -> dict[str, str]:
    """Each agency's policy label on a day; synthetic counties share their state's, so it is decided
    once a state."""
    by_state = {
        agency.state: agency_set.policy_label(agency, on)
        for agency, _ in _standing_for([a for a in chosen if not a.real]).values()
    }
    return {a.division: agency_set.policy_label(a, on) if a.real else by_state[a.state] for a in chosen}


def _label_changes(chosen: list[agency_set.Agency], start: date, days: int) -> list[dict[str, Any]]:
    """Where a jurisdiction's policy label changes within the run: the policy rows group bookings by
    the label on the first day, and a run across a change of law (Texas SB 4, 1 Sep 2017) showed
    that one label throughout, unnamed (found by a review)."""
    last = start + timedelta(days=days - 1)
    return [
        {"jurisdiction": name, "agencies": count, "on": day.isoformat(), "from": before, "to": after}
        for name, (agency, count) in sorted(_standing_for(chosen).items())
        for day, before, after in agency_set.policy_changes(agency, start, last)
    ]
