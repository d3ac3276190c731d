"""Load on the booking and federal-request endpoints over loopback (issue 9, item 3).

An open-loop generator: arrivals are scheduled at a fixed rate for a fixed duration (so a fixed
count), each one a booking (POST /bookings, jail officer) followed by its federal request
(POST /federal/requests, federal officer), every POST with its own ``Idempotency-Key`` and retried
with the same key after a lost connection, as a real client would. Latency is measured from the
moment a request was due, not when it was sent, so a server that falls behind shows it.

The generator is a raw HTTP/1.1 client on asyncio, pinned to one core, so it takes little from the
server. The server is `custody serve --workers N` on a fresh PostgreSQL schema (or SQLite).

Baseline in the same run: GET /health at the same rate against the same server, the floor of
loopback, generator and framework. Afterwards the store is read directly to check that every
accepted booking and request is there exactly once, and nothing else from the run is.

    .venv/bin/python bench/load_api.py [--rate 500] [--seconds 20] [--workers 2] [--store postgres] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from custody.access.roles import DEMO_USERS
from custody.access.tokens import Issuer
from custody.store.db import make_engine, upgrade
from custody.store.models import BookingRow, FederalRequestRow
from custody.store.scratch import drop_scratch, scratch_store

COOK = "ocd-division/country:us/state:il/county:cook"
MAX_CONNECTIONS = 256
TIMEOUT = 30.0
RETRIES = 3
# uvicorn closes a keep-alive connection idle for 5 s (its timeout_keep_alive); one idle longer than
# this is closed here instead of being written to and found closed, which counted as an error.
IDLE_LIMIT = 4.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the client ---------------------------------------------------------------------------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.last_used = time.monotonic()

    async def call(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections, opened as needed up to a limit."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []
        self.opened = 0
        self.free = asyncio.Semaphore(MAX_CONNECTIONS)

    async def call(self, method: str, path: str, token: str, payload: Any, key: str | None) -> tuple[int, bytes]:
        body = json.dumps(payload).encode() if payload is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"User-Agent: custody-load\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + (f"Idempotency-Key: {key}\r\n" if key else "")
            + "\r\n"
        ).encode()
        async with self.free:
            connection = self._fresh() or await self._open()
            try:
                answer = await asyncio.wait_for(connection.call(head, body), TIMEOUT)
            except BaseException:
                connection.close()
                raise
            connection.last_used = time.monotonic()
            self.idle.append(connection)
            return answer

    def _fresh(self) -> Connection | None:
        """The most recently used idle connection the server has not yet closed for idleness."""
        while self.idle:
            connection = self.idle.pop()
            if time.monotonic() - connection.last_used < IDLE_LIMIT:
                return connection
            connection.close()
        return None

    async def _open(self) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1
        return Connection(reader, writer)

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


@dataclass
class Figures:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    retries: int = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def summary(self, seconds: float) -> dict[str, Any]:
        done = sorted(self.latencies)

        def q(p: float) -> float:
            return round(1000 * done[min(len(done) - 1, int(p * len(done)))], 2) if done else float("nan")

        return {
            "requests": len(done) + sum(self.errors.values()),
            "ok": len(done),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "retries": self.retries,
            "rate_per_s": round(len(done) / seconds, 1),
            "p50_ms": q(0.50),
            "p90_ms": q(0.90),
            "p99_ms": q(0.99),
            "max_ms": round(1000 * done[-1], 2) if done else float("nan"),
        }


async def _post(
    pool: Pool, figures: Figures, due: float, path: str, token: str, payload: Any, expect: int
) -> dict[str, Any] | None:
    """One POST, retried with the same key after a lost connection; latency from when it was due."""
    key = uuid.uuid4().hex
    for attempt in range(RETRIES + 1):
        try:
            status, body = await pool.call("POST", path, token, payload, key)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ConnectionError):
            if attempt == RETRIES:
                figures.error("connection")
                return None
            figures.retries += 1
            continue
        if status == 409 and b"is being carried out" in body and attempt < RETRIES:
            # A retry that met its first attempt still running (the key is claimed): ask again shortly.
            figures.retries += 1
            await asyncio.sleep(1.0)
            continue
        if status != expect:
            figures.error(str(status))
            return None
        figures.latencies.append(time.perf_counter() - due)
        answer: dict[str, Any] = json.loads(body)
        return answer
    return None


async def _paced(count: int, rate: float, one: Any) -> float:
    """Start ``one(i, due)`` for i < count at ``rate`` per second, open loop; the seconds it took."""
    begun = time.perf_counter()
    tasks = []
    for i in range(count):
        due = begun + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - begun


async def baseline(port: int, rate: float, count: int) -> dict[str, Any]:
    pool, figures = Pool(port), Figures("health")

    async def one(_: int, due: float) -> None:
        try:
            status, _body = await pool.call("GET", "/health", "-", None, None)
        except (TimeoutError, OSError, ConnectionError):
            figures.error("connection")
            return
        if status == 200:
            figures.latencies.append(time.perf_counter() - due)
        else:
            figures.error(str(status))

    seconds = await _paced(count, rate, one)
    pool.close()
    return figures.summary(seconds)


async def workload(port: int, rate: float, pairs: int, run: str, jail: str, fed: str) -> dict[str, Any]:
    """``pairs`` bookings, each followed by its federal request: 2 × pairs requests at ``rate``."""
    pool = Pool(port)
    bookings, requests = Figures("bookings"), Figures("requests")
    accepted: dict[str, str] = {}  # booking id -> request id ("" if the request was not accepted)

    async def one(i: int, due: float) -> None:
        booking = await _post(pool, bookings, due, "/bookings", jail, _booking(run, i), 201)
        if booking is None:
            return
        accepted[booking["id"]] = ""
        request = await _post(
            pool, requests, time.perf_counter(), "/federal/requests", fed, _request(booking["id"]), 201
        )
        if request is not None:
            accepted[booking["id"]] = request["id"]

    seconds = await _paced(pairs, rate / 2, one)
    pool.close()
    both = Figures("all", bookings.latencies + requests.latencies, {}, bookings.retries + requests.retries)
    for f in (bookings, requests):
        for kind, n in f.errors.items():
            both.errors[kind] = both.errors.get(kind, 0) + n
    return {
        "seconds": round(seconds, 2),
        "all": both.summary(seconds),
        "bookings": bookings.summary(seconds),
        "requests": requests.summary(seconds),
        "accepted": accepted,
        "connections": pool.opened,
    }


def _booking(run: str, i: int) -> dict[str, Any]:
    return {
        "agency": COOK,
        "booking_number": f"LOAD-{run}-{i:07d}",
        "booked_at": "2017-08-16T01:00:00-05:00",
        "person": {
            "last_name": "Load",
            "first_name": f"Person{i}",
            "date_of_birth": "1990-01-01",
            "identifiers": {"fbi": f"L{run}{i}"},
        },
        "charges": [{"offense": "theft", "level": "misdemeanor"}],
        "convictions": [],
    }


def _request(booking_id: str) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "form": "I-247A",
        "warrant": "I-200",
        "officer": {"name": "Load Officer"},
        "issued_at": "2017-08-16T06:00:00-05:00",
    }


# --- the server and the store -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the server's workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(c) for c in children)
    return total


def _serve(url: str, var: Path, port: int, workers: int, exchange: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_VAR": str(var)}
    command = [sys.executable, "-m", "custody", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers), "--exchange", exchange],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if sock.recv(12).endswith(b"200"):
                    return server
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 60 s")
        time.sleep(0.3)


def _exchange_workers(url: str, var: Path) -> list[subprocess.Popen[bytes]]:
    """The parties' workers, applying what the API accepted (``--exchange workers``)."""
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_VAR": str(var)}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "custody", "worker", "--party", party],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for party in ("federal", "local:*")
    ]


def _undecided(url: str, run: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count())
            .select_from(FederalRequestRow)
            .join(BookingRow, BookingRow.id == FederalRequestRow.booking_id)
            .where(BookingRow.booking_number.like(f"LOAD-{run}-%"), FederalRequestRow.decision_id.is_(None))
        )
    engine.dispose()
    return int(count or 0)


def exactly_once(url: str, run: str, accepted: dict[str, str]) -> dict[str, Any]:
    """Every accepted booking and request is in the store once; nothing else of the run is."""
    engine = make_engine(url)
    with engine.connect() as conn:
        numbers = conn.execute(
            select(BookingRow.id, BookingRow.booking_number).where(BookingRow.booking_number.like(f"LOAD-{run}-%"))
        ).all()
        requests = conn.execute(
            select(FederalRequestRow.booking_id, func.count())
            .where(
                FederalRequestRow.booking_id.in_(
                    select(BookingRow.id).where(BookingRow.booking_number.like(f"LOAD-{run}-%"))
                )
            )
            .group_by(FederalRequestRow.booking_id)
        ).all()
        request_ids = set(
            conn.scalars(
                select(FederalRequestRow.id).where(FederalRequestRow.id.in_([r for r in accepted.values() if r]))
            )
        )
    engine.dispose()
    stored = {booking_id for booking_id, _ in numbers}
    per_booking = dict(requests)
    accepted_requests = {b: r for b, r in accepted.items() if r}
    report = {
        "bookings_accepted": len(accepted),
        "bookings_stored": len(numbers),
        "booking_numbers_unique": len({n for _, n in numbers}) == len(numbers),
        "accepted_bookings_missing": len(set(accepted) - stored),
        "stored_bookings_not_accepted": len(stored - set(accepted)),
        "requests_accepted": len(accepted_requests),
        "accepted_requests_missing": len(set(accepted_requests.values()) - request_ids),
        "bookings_with_more_than_one_request": sum(1 for n in per_booking.values() if n > 1),
        "requests_stored_not_accepted": sum(per_booking.values()) - len(accepted_requests),
    }
    report["ok"] = (
        report["booking_numbers_unique"]
        and not report["accepted_bookings_missing"]
        and not report["stored_bookings_not_accepted"]
        and not report["accepted_requests_missing"]
        and not report["bookings_with_more_than_one_request"]
        and not report["requests_stored_not_accepted"]
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second (both endpoints together)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load lasts")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--store", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--exchange",
        choices=["inline", "workers"],
        default="inline",
        help="inline: the server decides each request before answering; workers: `custody worker` does, after",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--generator-core", type=int, default=None, help="pin the generator to this core")
    parser.add_argument("--json", action="store_true", help="print JSON only on stdout")
    args = parser.parse_args()
    core = args.generator_core if args.generator_core is not None else (os.cpu_count() or 1) - 1
    os.sched_setaffinity(0, {core})
    folder = Path(tempfile.mkdtemp(prefix="custody-load-"))
    url = scratch_store(args.store, folder, "load")
    upgrade(make_engine(url))
    issuer = Issuer.local(folder)
    jail = issuer.mint(DEMO_USERS["demo-jail-officer-cook"])
    fed = issuer.mint(DEMO_USERS["demo-federal-officer-chicago"])
    port = _free_port()
    server = _serve(url, folder, port, args.workers, args.exchange)
    workers = _exchange_workers(url, folder) if args.exchange == "workers" else []
    run = uuid.uuid4().hex[:6]
    count = int(args.rate * args.seconds)
    try:
        log(f"server: {args.workers} workers on {args.store}, exchange {args.exchange}; generator on core {core}")
        log(f"warm-up: {args.warmup:.0f} s")
        asyncio.run(workload(port, args.rate, int(args.rate * args.warmup / 2), f"{run}w", jail, fed))
        log(f"baseline: GET /health, {count} requests at {args.rate:.0f}/s")
        cpu0, gen0 = _cpu_seconds(server.pid), time.process_time()
        health = asyncio.run(baseline(port, args.rate, count))
        cpu1, gen1 = _cpu_seconds(server.pid), time.process_time()
        log(f"load: {count // 2} bookings + their federal requests at {args.rate:.0f} requests/s")
        load = asyncio.run(workload(port, args.rate, count // 2, run, jail, fed))
        cpu2, gen2 = _cpu_seconds(server.pid), time.process_time()
        drained = time.perf_counter()
        while workers and _undecided(url, run):
            time.sleep(0.5)
        drain_seconds = round(time.perf_counter() - drained, 1)
        worker_cpu = round(sum(_cpu_seconds(w.pid) for w in workers), 2)
    finally:
        for process in (server, *workers):
            process.terminate()
            process.wait(timeout=30)
    check = exactly_once(url, run, load.pop("accepted"))
    drop_scratch(url)
    figures = {
        "store": args.store,
        "workers": args.workers,
        "exchange": args.exchange,
        "decided_after_load_s": drain_seconds,
        "exchange_worker_cpu_s": worker_cpu,
        "target_rate_per_s": args.rate,
        "seconds": args.seconds,
        "baseline_health": health,
        "load": load,
        "p99_ratio_to_baseline": round(load["all"]["p99_ms"] / health["p99_ms"], 1),
        "server_cpu_s": {"baseline": round(cpu1 - cpu0, 2), "load": round(cpu2 - cpu1, 2)},
        "generator_cpu_s": {"baseline": round(gen1 - gen0, 2), "load": round(gen2 - gen1, 2)},
        "server_cpu_ms_per_request": round(1000 * (cpu2 - cpu1) / max(1, load["all"]["ok"]), 2),
        "exactly_once": check,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    a = load["all"]
    print(
        f"{a['ok']} of {a['requests']} requests in {load['seconds']} s: {a['rate_per_s']}/s, "
        f"p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms, errors {a['errors']} (retries {a['retries']})"
    )
    print(
        f"baseline GET /health: {health['rate_per_s']}/s, p50 {health['p50_ms']} ms, p99 {health['p99_ms']} ms; "
        f"p99 ratio {figures['p99_ratio_to_baseline']}×"
    )
    print(f"server CPU: {figures['server_cpu_ms_per_request']} ms per request; exactly once: {check['ok']}")


if __name__ == "__main__":
    main()
