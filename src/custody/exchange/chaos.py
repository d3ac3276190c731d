"""The chaos run: N bookings with federal requests through real worker processes, killed with
SIGKILL at K random moments and restarted, the simulated clock moved past every deadline, and the
invariants computed from the store afterwards (never from counters the killed processes kept).

With ``api_kills``, the bookings and requests are posted over HTTP to a real API server process,
which is itself killed with SIGKILL that many times while they arrive and restarted. The client does
what a jail's or a field office's system would: it retries every POST with the same
``Idempotency-Key`` until it gets an answer. A POST whose change was committed just before a kill,
but whose answer was lost, is refused on retry as a duplicate of the record it made (booking number;
booking, form and date); the client then takes that record as its own, so each accepted booking and
request must be in the store exactly once.

* lost: messages in the outbox that their party never applied and that are not in the dead-letter
  store, plus accepted bookings or requests missing from the store;
* duplicated: effects that must happen once per booking or request and happened more than once,
  and bookings or requests stored twice for one submission;
* overdue_holds: holds that ended after their legal limit, or are still running past it;
* decided: requests decided under the law, out of N.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from custody.access.roles import Principal, Role
from custody.access.tokens import Issuer
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
from custody.store.scratch import drop_scratch, scratch_store

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
    api_kills: int = 0
    answers_lost: int = 0  # POSTs committed just before a kill whose answer the client never got

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

    def __init__(self, env: dict[str, str], transport: str, log: Path) -> None:
        self.env, self.transport, self.log_path = env, transport, log
        self.log = log.open("ab")  # their failed rounds, quoted if the run never settles
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
            stderr=self.log,
        )

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.procs))
        proc = self.procs[index]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills += 1
        err.print(f"  killed worker {self.PARTIES[index]} (pid {proc.pid}); restarting")
        self.procs[index] = self._start(self.PARTIES[index])

    def state(self) -> str:
        """Each worker's party and pid, and its exit code if it died without being killed by us."""
        return ", ".join(
            f"{party} pid {proc.pid} " + ("running" if proc.poll() is None else f"exited {proc.returncode}")
            for party, proc in zip(self.PARTIES, self.procs, strict=True)
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()

    def errors(self, last: int = 5) -> list[str]:
        """The last exceptions (each traceback's final line) and dead letters the workers logged."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line[:240] for line in lines if EXCEPTION_LINE.match(line) or " WARNING " in line][-last:]


TRANSPORT_ENV = "CUSTODY_CHAOS_TRANSPORT"
# The last line of a logged traceback: ``package.ExceptionClass: message``.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*: ")


def api_app() -> Any:
    """The API server of a chaos run (``uvicorn custody.exchange.chaos:api_app --factory``): on the
    store's shared clock, leaving messages and timers to the workers."""
    from custody.api.app import create_app

    engine = make_engine()
    transport = os.environ.get(TRANSPORT_ENV, "inproc")
    # the run's requests are signed by the development issuer under the run's folder, whatever
    # provider the operator's environment names (found by a review: every request was refused)
    return create_app(
        Custody(engine, StoredClock(engine), "api", transport, inline=False), tick_seconds=None, issuer=Issuer.local()
    )


class ApiServer:
    """The API server process, restartable after a kill."""

    def __init__(self, env: dict[str, str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.env = env
        self.proc = self._start()
        self.kills = 0
        # Kills come from timer threads: two landing together must not both start a server, the
        # second of which would fail to bind while the first ran on, never to be stopped.
        self._killing = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "uvicorn", "custody.exchange.chaos:api_app", "--factory"]
        return subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        with self._killing:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
            err.print(f"  killed the API server (pid {self.proc.pid}); restarting")
            self.proc = self._start()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Front:
    """The agencies' own systems posting to the API: every POST is retried with its
    ``Idempotency-Key`` until the server answers, however often it dies meanwhile."""

    def __init__(self, server: ApiServer, issuer: Issuer, timeout: float) -> None:
        self.server, self.issuer, self.timeout = server, issuer, timeout
        federal = Principal("chaos-federal", "Chaos Officer", Role.federal_officer, area=("ocd-division/country:us",))
        self.federal = issuer.mint(federal)
        self.jails: dict[str, str] = {}
        self.answers_lost = 0

    def jail(self, agency: str) -> str:
        if agency not in self.jails:
            self.jails[agency] = self.issuer.mint(
                Principal(f"chaos-jail-{agency}", "Chaos Jail", Role.jail_officer, agency)
            )
        return self.jails[agency]

    def post(self, path: str, token: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
        """The answer, and whether it came after a retry (so a refusal may be of our own first try)."""
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        body, retried = json.dumps(payload), False
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
                connection.request("POST", path, body=body, headers=headers)
                answer = connection.getresponse()
                status, text = answer.status, answer.read()
                connection.close()
                if status < 500:
                    return status, json.loads(text), retried
            except (OSError, http.client.HTTPException):
                pass  # the server is down or died mid-answer: try again with the same key
            if time.monotonic() > deadline:
                raise TimeoutError(f"POST {path} got no answer within {self.timeout:.0f} s")
            retried = True
            time.sleep(0.2)

    def created(self, path: str, token: str, payload: dict[str, Any], existing: Callable[[], str | None]) -> str:
        """POST a new record and return its id; a duplicate refusal after a retry means our first try
        was committed before a kill took its answer, so the record found by ``existing`` is ours."""
        status, answer, retried = self.post(path, token, payload)
        if status == 201:
            return str(answer["id"])
        found = existing() if status == 409 and retried else None
        if found is None:
            raise RuntimeError(f"POST {path} refused: {status} {answer.get('detail')}")
        self.answers_lost += 1
        return found


def _wait(predicate: Callable[[], bool], timeout: float, what: str, left: Callable[[], object] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            still = f"; still left: {left()}" if left else ""
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s{still}")
        time.sleep(0.3)


def run(
    bookings: int, kills: int, store: str, transport: str, seed: int = 1, timeout: float = 900, api_kills: int = 0
) -> Report:
    started = time.monotonic()
    rng = random.Random(seed)
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
    url = scratch_store(store, Path(os.environ.get("CUSTODY_VAR", "var")) / "chaos", f"chaos_{stamp}")
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
    logs = Path(os.environ.get("CUSTODY_VAR", "var")) / "chaos"
    logs.mkdir(parents=True, exist_ok=True)
    workers = Workers(env, transport, logs / f"workers-{prefix}.log")
    killer_done = threading.Event()
    server: ApiServer | None = None
    front: Front | None = None
    if api_kills:
        var = Path(tempfile.mkdtemp(prefix="chaos-api-"))
        server = ApiServer({**env, "CUSTODY_VAR": str(var), TRANSPORT_ENV: transport})
        front = Front(server, Issuer.local(var), timeout)

    # Kills spread over the run's expected length, so they fall in every phase.
    expected = max(10.0, 0.35 * bookings)
    moments = sorted(rng.uniform(0.5, expected) for _ in range(kills))

    # The killer draws from its own generator: sharing the driver's would make the bookings depend on
    # when the kills happen to land, and a seed would no longer name one run.
    killer_rng = random.Random(seed + 2)

    # A run that ends early (an error, a timeout) stops the killer first: a worker it restarted
    # after the others were stopped would be left running, polling the store for ever.
    stopping = threading.Event()

    def killer() -> None:
        begun = time.monotonic()
        for moment in moments:
            if stopping.wait(max(0.0, moment - (time.monotonic() - begun))):
                return
            workers.kill_one(killer_rng)
        killer_done.set()

    killing = threading.Thread(target=killer, daemon=True)
    killing.start()
    try:
        report = _drive(custody, clock, bookings, rng, timeout, killer_done, workers, front, api_kills, seed)
        report.kills = workers.kills
        report.seconds = time.monotonic() - started
        if server is not None and front is not None:
            report.api_kills, report.answers_lost = server.kills, front.answers_lost
        return report
    finally:
        stopping.set()
        killing.join()
        if server is not None:
            server.stop()
        workers.stop()
        engine.dispose()
        if transport == "nats":
            _delete_stream(prefix)
        if store == "postgres":  # a SQLite run's file stays for inspection, beside the workers' log
            drop_scratch(url)


def _drive(
    custody: Custody,
    clock: StoredClock,
    n: int,
    rng: random.Random,
    timeout: float,
    killer_done: threading.Event,
    workers: Workers,
    front: Front | None = None,
    api_kills: int = 0,
    seed: int = 1,
) -> Report:
    err.print(f"chaos: {n} bookings" + (f" over HTTP, the API server killed {api_kills} times" if front else ""))
    booking_ids, request_ids = [], []
    # The API server is killed just after these submissions start, so each kill lands mid-request.
    api_rng = random.Random(seed + 1)
    kill_at = set(api_rng.sample(range(n), min(api_kills, n))) if front else set()
    pending_kills: list[threading.Timer] = []
    for i in range(n):
        fbi = f"CHAOS-{i:06d}"
        custody.enrol(IdentityIn(names=[f"PERSON, Number{i}"], identifiers={"fbi": fbi}, record={"n": i}))
        booking = {
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
        request = {
            "form": "I-247A",
            "warrant": "I-200",
            "officer": {"name": "Chaos Officer"},
            "issued_at": (START - timedelta(hours=1)).isoformat(),
        }
        if front is None:
            booking_ids.append(custody.book(BookingIn.model_validate(booking)).id)
            request_ids.append(
                custody.issue_request(RequestIn.model_validate({**request, "booking_id": booking_ids[-1]})).id
            )
            continue
        if i in kill_at:
            pending_kills.append(threading.Timer(api_rng.uniform(0.0, 0.05), front.server.kill))
            pending_kills[-1].start()
        agency, number = str(booking["agency"]), str(booking["booking_number"])
        booking_ids.append(
            front.created("/bookings", front.jail(agency), booking, partial(_booking_id, custody, agency, number))
        )
        booking_id = booking_ids[-1]
        request_ids.append(
            front.created(
                "/federal/requests",
                front.federal,
                {**request, "booking_id": booking_id},
                partial(_request_id, custody, booking_id),
            )
        )
    for kill in pending_kills:
        kill.join()
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
    clock.advance(timedelta(hours=1))  # past every release eligibility below: none is dated ahead of the clock
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
    clock.advance(timedelta(hours=9))
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
    _wait(
        lambda: not any(_backlog(custody, clock).values()), timeout, "quiescence", partial(_unsettled, custody, workers)
    )
    return _invariants(custody, clock, n, request_ids, booking_ids)


def _booking_id(custody: Custody, agency: str, number: str) -> str | None:
    with custody.unit() as unit:
        return unit.session.scalar(
            select(BookingRow.id).where(BookingRow.booking_agency == agency, BookingRow.booking_number == number)
        )


def _request_id(custody: Custody, booking_id: str) -> str | None:
    with custody.unit() as unit:
        return unit.session.scalar(select(FederalRequestRow.id).where(FederalRequestRow.booking_id == booking_id))


def _backlog(custody: Custody, clock: StoredClock) -> dict[str, int]:
    """What is still to happen: deliveries pending, messages unpublished or unapplied, holds due."""
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
    return {"pending": pending, "unpublished": unpublished, "unapplied": unapplied, "holds_due": due}


def _unsettled(custody: Custody, workers: Workers) -> str:
    """Why the run has not settled, for the timeout message: what the store still holds, the
    workers' exit codes and their last logged errors."""
    return "; ".join(
        [
            *_stuck(custody),
            f"workers: {workers.state()}",
            "their last errors: " + (" | ".join(workers.errors()) or "none"),
        ]
    )


def _stuck(custody: Custody) -> list[str]:
    """What the store still holds: each delivery pending (party, attempts, lease, last error), each
    message neither applied nor dead-lettered, each hold past its limit, and the dead letters."""
    now = custody.clock.now()
    with custody.unit() as unit:
        session = unit.session
        pending = session.execute(
            select(
                MessageRow.type,
                DeliveryRow.party,
                DeliveryRow.attempts,
                DeliveryRow.lease_until,
                DeliveryRow.claimed_by,
                DeliveryRow.last_error,
            )
            .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
            .where(DeliveryRow.state == "pending")
        ).all()
        unapplied = session.execute(
            select(MessageRow.id, MessageRow.type, MessageRow.to_party, DeliveryRow.state, DeliveryRow.attempts)
            .outerjoin(DeliveryRow, DeliveryRow.message_id == MessageRow.id)
            .where(~_applied_or_dead())
        ).all()
        due = session.execute(
            select(HoldRow.id, HoldRow.booking_id, HoldRow.expires_at).where(
                HoldRow.state == "active", HoldRow.expires_at <= now
            )
        ).all()
        dead = session.execute(select(DeadLetterRow.party, DeadLetterRow.message_id, DeadLetterRow.reason)).all()
    return [
        f"now {now.isoformat()} (wall {datetime.now(UTC).isoformat()})",
        "pending deliveries: "
        + (
            ", ".join(f"{t} to {p} attempts {a} lease until {lu} by {by} error {e}" for t, p, a, lu, by, e in pending)
            or "none"
        ),
        "unapplied messages: "
        + (", ".join(f"{i} {t} to {p} delivery {st} attempts {a}" for i, t, p, st, a in unapplied) or "none"),
        "holds due: " + (", ".join(f"{h} of {b} expired {x.isoformat()}" for h, b, x in due) or "none"),
        "dead letters: " + (", ".join(f"{m} for {p}: {r}" for p, m, r in dead) or "none"),
    ]


def _applied_or_dead() -> Any:
    """A message its party applied (an inbox row) or that went to the dead-letter store."""
    applied = (
        select(InboxRow.message_id)
        .where(InboxRow.party == MessageRow.to_party, InboxRow.message_id == MessageRow.id)
        .exists()
    )
    dead = select(DeadLetterRow.id).where(DeadLetterRow.message_id == MessageRow.id).exists()
    return applied | dead


def _unapplied(session: object) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return session.scalar(select(func.count()).select_from(MessageRow).where(~_applied_or_dead())) or 0


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
        # One submission, one record: no booking number stored twice, no booking with two requests.
        twice = session.execute(
            select(FederalRequestRow.booking_id, func.count())
            .where(FederalRequestRow.booking_id.in_(booking_ids))
            .group_by(FederalRequestRow.booking_id)
            .having(func.count() > 1)
        ).all()
        duplicated += sum(count - 1 for _, count in twice)
        numbers = session.execute(
            select(BookingRow.booking_number, func.count())
            .where(BookingRow.booking_number.like("CH-%"))
            .group_by(BookingRow.booking_agency, BookingRow.booking_number)
            .having(func.count() > 1)
        ).all()
        duplicated += sum(count - 1 for _, count in numbers)
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
    details += [f"booking {b} has {c} requests" for b, c in twice[:10]]
    details += [f"booking number {n} stored ×{c}" for n, c in numbers[:10]]
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
