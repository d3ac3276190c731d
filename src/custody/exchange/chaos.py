"""The chaos run: N bookings with federal requests through real worker processes, killed with
SIGKILL at K random moments and restarted, the simulated clock moved past every deadline, and the
invariants computed from the store afterwards (never from counters the killed processes kept):

* lost: messages in the outbox that their party never applied and that are not in the dead-letter
  store, plus accepted bookings or requests missing from the store;
* duplicated: effects that must happen once per booking or request and happened more than once;
* overdue_holds: holds that ended after their legal limit, or are still running past it;
* decided: requests decided under the law, out of N.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

from custody.booking.commands import BookingIn
from custody.cli.output import err
from custody.domain.errors import CustodyError
from custody.identity.commands import IdentityIn
from custody.law.model import Status
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import RequestIn, ResponseIn, ServeIn
from custody.requests.model import RequestState
from custody.service import Custody
from custody.store.clock import StoredClock
from custody.store.db import make_engine, upgrade
from custody.store.models import (
    BookingRow,
    DeadLetterRow,
    DeliveryRow,
    EventRow,
    FederalRequestRow,
    HoldRow,
    InboxRow,
    MessageRow,
)

START = datetime.fromisoformat("2017-09-05T08:00:00-05:00")
DIVISIONS = [
    "ocd-division/country:us/state:il/county:cook",
    "ocd-division/country:us/state:il/place:chicago",
    "ocd-division/country:us/state:fl/county:miami-dade",
    "ocd-division/country:us/state:tx/county:harris",
    "ocd-division/country:us/state:tx/county:travis",
    "ocd-division/country:us/state:ca/county:los_angeles",
]
# Effects that happen at most once per aggregate: a second one is a duplicate.
ONCE = (
    "IdentificationReceived",
    "DetainerReceived",
    "DetainerHoldStarted",
    "DetainerHoldLapsed",
    "CustodyTransferred",
    "PersonReleased",
    "RequestResponded",
)
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Report:
    lost: int
    duplicated: int
    overdue_holds: int
    decided: int
    total: int
    dead_letters: int
    kills: int
    seconds: float
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.overdue_holds == 0 and self.decided == self.total

    def line(self) -> str:
        return (
            f"lost={self.lost} duplicated={self.duplicated} overdue_holds={self.overdue_holds} "
            f"decided={self.decided}/{self.total}"
        )


class Workers:
    """The worker processes of both parties, each restartable after a kill."""

    PARTIES = ("federal", "local:*", "local:*")

    def __init__(self, env: dict[str, str], transport: str) -> None:
        self.env, self.transport = env, transport
        self.procs: list[subprocess.Popen[bytes]] = [self._start(p) for p in self.PARTIES]
        self.kills = 0

    def _start(self, party: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "custody",
                "worker",
                "--party",
                party,
                "--transport",
                self.transport,
                "--clock",
                "stored",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.procs))
        proc = self.procs[index]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills += 1
        err.print(f"  killed worker {self.PARTIES[index]} (pid {proc.pid}); restarting")
        self.procs[index] = self._start(self.PARTIES[index])

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _store(kind: str) -> tuple[str, Callable[[], None]]:
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
    if kind == "sqlite":
        folder = Path(os.environ.get("CUSTODY_VAR", "var")) / "chaos"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"chaos-{stamp}.db"
        return f"sqlite:///{path}", lambda: None
    base = os.environ.get("CUSTODY_DATABASE_URL", POSTGRES_DEFAULT)
    schema = f"chaos_{stamp}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", drop


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.3)


def run(bookings: int, kills: int, store: str, transport: str, seed: int = 1, timeout: float = 900) -> Report:
    started = time.monotonic()
    rng = random.Random(seed)
    url, cleanup = _store(store)
    prefix = f"chaos{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CUSTODY_DATABASE_URL": url,
        "CUSTODY_NATS_PREFIX": prefix,
        "CUSTODY_LEASE_SECONDS": "3",
        "CUSTODY_ACK_WAIT_SECONDS": "3",
    }
    engine = make_engine(url)
    upgrade(engine)
    clock = StoredClock(engine)
    clock.set(START)
    custody = Custody(engine, clock, actor="chaos-driver", transport=transport, inline=False)
    workers = Workers(env, transport)
    killer_done = threading.Event()

    # Kills spread over the run's expected length, so they fall in every phase.
    expected = max(10.0, 0.35 * bookings)
    moments = sorted(rng.uniform(0.5, expected) for _ in range(kills))

    def killer() -> None:
        begun = time.monotonic()
        for moment in moments:
            time.sleep(max(0.0, moment - (time.monotonic() - begun)))
            workers.kill_one(rng)
        killer_done.set()

    threading.Thread(target=killer, daemon=True).start()
    try:
        report = _drive(custody, engine, clock, bookings, rng, timeout, killer_done)
        report.kills = workers.kills
        report.seconds = time.monotonic() - started
        return report
    finally:
        workers.stop()
        engine.dispose()
        if transport == "nats":
            _delete_stream(prefix)
        cleanup()


def _drive(
    custody: Custody,
    engine: Engine,
    clock: StoredClock,
    n: int,
    rng: random.Random,
    timeout: float,
    killer_done: threading.Event,
) -> Report:
    err.print(f"chaos: {n} bookings")
    booking_ids, request_ids = [], []
    for i in range(n):
        fbi = f"CHAOS-{i:06d}"
        custody.enrol(IdentityIn(names=[f"PERSON, Number{i}"], identifiers={"fbi": fbi}, record={"n": i}))
        booking = custody.book(
            BookingIn.model_validate(
                {
                    "agency": rng.choice(DIVISIONS),
                    "booking_number": f"CH-{i:06d}",
                    "booked_at": (START - timedelta(hours=2)).isoformat(),
                    "person": {
                        "last_name": "Person",
                        "first_name": f"Number{i}",
                        "date_of_birth": "1985-05-05",
                        "identifiers": {"fbi": fbi},
                    },
                    "charges": [{"offense": "theft", "level": rng.choice(["felony", "misdemeanor"])}],
                    "convictions": [{"offense": "burglary", "level": "felony"}] if rng.random() < 0.5 else [],
                }
            )
        )
        booking_ids.append(booking.id)
        request = custody.issue_request(
            RequestIn.model_validate(
                {
                    "booking_id": booking.id,
                    "form": "I-247A",
                    "warrant": "I-200",
                    "officer": {"name": "Chaos Officer"},
                    "issued_at": (START - timedelta(hours=1)).isoformat(),
                }
            )
        )
        request_ids.append(request.id)
    err.print("  all bookings and requests accepted; waiting for decisions")

    def count_in(states: tuple[RequestState, ...]) -> int:
        with custody.unit() as unit:
            return (
                unit.session.scalar(
                    select(func.count())
                    .select_from(FederalRequestRow)
                    .where(FederalRequestRow.state.in_([s.value for s in states]))
                )
                or 0
            )

    _wait(lambda: count_in((RequestState.issued, RequestState.received)) == 0, timeout, "every request decided")
    err.print("  every request decided; answering, serving and releasing")
    for request_id, booking_id in zip(request_ids, booking_ids, strict=True):
        view = custody.request_view(request_id)
        answers = {a: "honor" for a, r in view["decision"]["actions"].items() if r["status"] == Status.permitted}
        custody.serve(request_id, ServeIn(at=START))
        custody.respond(request_id, ResponseIn.model_validate({"at": START.isoformat(), "answers": answers}))
        officers = {"name": "Pickup Officer"} if rng.random() < 0.2 else None
        custody.release_eligible(
            booking_id,
            ReleaseIn.model_validate(
                {
                    "reason": "bail",
                    "at": (START + timedelta(minutes=rng.randrange(60))).isoformat(),
                    "federal_officers_present": officers,
                }
            ),
        )
    clock.advance(timedelta(hours=10))
    for booking_id in booking_ids:
        if rng.random() < 0.4:
            with contextlib.suppress(CustodyError):  # no active hold on this booking: nothing to pick up
                custody.transfer(
                    booking_id,
                    TransferIn.model_validate({"at": clock.now().isoformat(), "officer": {"name": "Pickup Officer"}}),
                )
    err.print("  moving the clock past every deadline")
    clock.advance(timedelta(hours=72))
    _wait(killer_done.is_set, timeout, "the kills")
    _wait(lambda: _quiet(custody, clock), timeout, "quiescence")
    return _invariants(custody, clock, n, request_ids, booking_ids)


def _quiet(custody: Custody, clock: StoredClock) -> bool:
    now = clock.now()
    with custody.unit() as unit:
        pending = (
            unit.session.scalar(select(func.count()).select_from(DeliveryRow).where(DeliveryRow.state == "pending"))
            or 0
        )
        unpublished = 0
        if not custody.inline and custody.transport == "nats":
            unpublished = (
                unit.session.scalar(
                    select(func.count()).select_from(MessageRow).where(MessageRow.published_at.is_(None))
                )
                or 0
            )
        unapplied = _unapplied(unit.session)
        due = (
            unit.session.scalar(
                select(func.count()).select_from(HoldRow).where(HoldRow.state == "active", HoldRow.expires_at <= now)
            )
            or 0
        )
    return pending == 0 and unpublished == 0 and unapplied == 0 and due == 0


def _unapplied(session: object) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    applied = (
        select(InboxRow.message_id)
        .where(InboxRow.party == MessageRow.to_party, InboxRow.message_id == MessageRow.id)
        .exists()
    )
    dead = select(DeadLetterRow.id).where(DeadLetterRow.message_id == MessageRow.id).exists()
    return session.scalar(select(func.count()).select_from(MessageRow).where(~applied, ~dead)) or 0


def _invariants(custody: Custody, clock: StoredClock, n: int, request_ids: list[str], booking_ids: list[str]) -> Report:
    now = clock.now()
    with custody.unit() as unit:
        session = unit.session
        lost = _unapplied(session)
        lost += n - (
            session.scalar(select(func.count()).select_from(BookingRow).where(BookingRow.id.in_(booking_ids))) or 0
        )
        lost += n - (
            session.scalar(
                select(func.count()).select_from(FederalRequestRow).where(FederalRequestRow.id.in_(request_ids))
            )
            or 0
        )
        groups = session.execute(
            select(EventRow.type, EventRow.aggregate_id, func.count())
            .where(EventRow.type.in_(ONCE))
            .group_by(EventRow.type, EventRow.aggregate_id)
            .having(func.count() > 1)
        ).all()
        duplicated = sum(count - 1 for _, _, count in groups)
        overdue = (
            session.scalar(
                select(func.count())
                .select_from(HoldRow)
                .where(
                    ((HoldRow.state != "active") & (HoldRow.ended_at > HoldRow.expires_at))
                    | ((HoldRow.state == "active") & (HoldRow.expires_at < now))
                )
            )
            or 0
        )
        undecided = (RequestState.issued.value, RequestState.received.value, RequestState.cancelled.value)
        decided = (
            session.scalar(
                select(func.count())
                .select_from(FederalRequestRow)
                .where(FederalRequestRow.id.in_(request_ids), FederalRequestRow.state.not_in(undecided))
            )
            or 0
        )
        dead_letters = session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
    details = [f"{t} {a} ×{c}" for t, a, c in groups[:10]]
    return Report(lost, duplicated, overdue, decided, n, dead_letters, 0, 0.0, details)


def _delete_stream(prefix: str) -> None:
    import asyncio

    from custody.exchange.nats import DEFAULT_URL, stream_name

    async def delete() -> None:
        import nats

        client = await nats.connect(DEFAULT_URL, connect_timeout=5)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(stream_name(prefix))
        await client.drain()

    asyncio.run(delete())
