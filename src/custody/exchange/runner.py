"""A worker process: applies its party's messages and runs its party's timers, on either transport,
until stopped. `custody worker --party federal|local:DIVISION|local:* --transport inproc|nats`, or
`--party webhooks` for the outside subscribers, on either transport."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from custody.exchange.wakeup import STOP_CHECK, Wakeup
from custody.exchange.webhooks import deliver_due
from custody.exchange.worker import process, worker_id
from custody.observability import masked
from custody.service import Custody

if TYPE_CHECKING:
    from custody.exchange.nats import NatsTransport

log = logging.getLogger("custody.worker")
WEBHOOKS = "webhooks"  # the party of a worker that delivers to outside subscribers


def _timers(custody: Custody, party: str) -> int:
    """Local parties own the hold timers of their agencies; a lapsed hold releases the person."""
    if not party.startswith("local:"):
        return 0
    division = party.split(":", 1)[1]
    return len(custody.tick(agency=None if division == "*" else division))


class Every:
    """Due once every ``seconds``: the hold timers run at that pace however busy the worker is (a
    transaction each round they ran in, while a busy worker's rounds follow each other closely),
    and a hold still lapses no later than when the worker polled an empty queue."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True


def run(
    custody: Custody,
    party: str,
    transport: str = "inproc",
    nats_url: str | None = None,
    stop: threading.Event | None = None,
    poll: float = 0.2,
    nats_prefix: str | None = None,
) -> None:
    """Work until ``stop``: after a round that found nothing, wait until a message is committed
    (PostgreSQL wakes the worker at once) or ``poll`` seconds have passed. ``nats_prefix``: the
    JetStream stream's subject prefix (default: ``CUSTODY_NATS_PREFIX``, else ``custody``)."""
    stop = stop or threading.Event()
    wakeup = Wakeup(custody.engine, stop)
    if wakeup.listening:
        log.info("woken by each new message (PostgreSQL LISTEN), polling every %s s besides", poll)
    else:
        log.info("polling for new messages every %s s", poll)
    try:
        if party == WEBHOOKS:
            _run_webhooks(custody, stop, poll, wakeup)
        elif transport == "nats":
            asyncio.run(_run_nats(custody, party, nats_url, nats_prefix, stop, poll, wakeup))
        else:
            _run_inproc(custody, party, stop, poll, wakeup)
    finally:
        wakeup.close()


def _run_inproc(custody: Custody, party: str, stop: threading.Event, poll: float, wakeup: Wakeup) -> None:
    me = worker_id()
    timers = Every(poll)
    log.info("worker %s serving %s over the in-process transport", me, party)
    _rounds(lambda: process(custody, party, me) + (_timers(custody, party) if timers.due() else 0), stop, poll, wakeup)


def _run_webhooks(custody: Custody, stop: threading.Event, poll: float, wakeup: Wakeup) -> None:
    """Outside subscribers are served from the store's outbox, which holds every message whichever
    transport carries it between the parties, so on either (found by a review: over NATS the worker
    pulled a subject of a party "webhooks" that no one sends to, and failed)."""
    log.info("worker delivering the store's messages to outside subscribers")
    _rounds(lambda: deliver_due(custody), stop, poll, wakeup)


def _rounds(work: Callable[[], int], stop: threading.Event, poll: float, wakeup: Wakeup) -> None:
    """Do ``work`` until ``stop``; after a round that did nothing, wait for a new message or ``poll``."""
    while not stop.is_set():
        try:
            busy = work()
        except Exception:
            log.exception("worker round failed; retrying")
            busy = 0
        if not busy:
            wakeup.wait(poll)


async def _run_nats(
    custody: Custody,
    party: str,
    url: str | None,
    prefix: str | None,
    stop: threading.Event,
    poll: float,
    wakeup: Wakeup,
) -> None:
    """Two loops side by side: one relays the outbox to JetStream as soon as a message is written,
    the other pulls the party's messages (JetStream's fetch returns as soon as one arrives) and
    runs the timers. In one loop, the relay waited behind an empty fetch."""
    from custody.exchange.nats import DEFAULT_URL, PREFIX, NatsTransport

    transport = NatsTransport(custody, url or DEFAULT_URL, prefix or PREFIX)
    await transport.start()
    log.info("worker serving %s over NATS JetStream at %s", party, masked(transport.url))
    try:
        await asyncio.gather(_relaying(transport, stop, poll, wakeup), _consuming(transport, party, stop, poll))
    finally:
        await transport.close()


async def _relaying(transport: NatsTransport, stop: threading.Event, poll: float, wakeup: Wakeup) -> None:
    while not stop.is_set():
        relayed = 0
        try:
            if transport.connected:
                relayed = await transport.relay()
        except Exception:
            _round_failed(transport, "relay round failed; retrying")
        if not relayed:
            await asyncio.to_thread(wakeup.wait, poll)


async def _consuming(transport: NatsTransport, party: str, stop: threading.Event, poll: float) -> None:
    """The hold timers run during a NATS outage too: they need only the store."""
    timers = Every(poll)
    while not stop.is_set():
        try:
            if transport.connected:
                # JetStream answers the fetch as soon as a message comes, so the fetch is the wait.
                await transport.consume(party, timeout=min(poll, STOP_CHECK))
            else:
                await asyncio.sleep(poll)
            if timers.due():
                await asyncio.to_thread(_timers, transport.custody, party)
        except Exception:
            _round_failed(transport, "worker round failed; retrying")
            await asyncio.sleep(poll)


def _round_failed(transport: NatsTransport, what: str) -> None:
    """A round's failure with its traceback, except one the NATS connection's loss caused: that
    outage is logged once by the transport (found by a review: a traceback five times a second)."""
    if transport.connected:
        log.exception(what)
    else:
        log.debug(what, exc_info=True)
