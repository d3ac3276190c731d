"""A worker process: applies its party's messages and runs its party's timers, on either transport,
until stopped. `custody worker --party federal|local:DIVISION|local:* --transport inproc|nats`."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from custody.exchange.webhooks import deliver_due
from custody.exchange.worker import process, worker_id
from custody.service import Custody

log = logging.getLogger("custody.worker")


def _timers(custody: Custody, party: str) -> int:
    """Local parties own the hold timers of their agencies; a lapsed hold releases the person."""
    if not party.startswith("local:"):
        return 0
    division = party.split(":", 1)[1]
    return len(custody.tick(agency=None if division == "*" else division))


def run(
    custody: Custody,
    party: str,
    transport: str = "inproc",
    nats_url: str | None = None,
    stop: threading.Event | None = None,
    poll: float = 0.2,
) -> None:
    stop = stop or threading.Event()
    if transport == "nats":
        asyncio.run(_run_nats(custody, party, nats_url, stop, poll))
        return
    me = worker_id()
    log.info("worker %s serving %s over the in-process transport", me, party)
    while not stop.is_set():
        try:
            if party == "webhooks":
                busy = deliver_due(custody)
            else:
                busy = process(custody, party, me) + _timers(custody, party)
        except Exception:
            log.exception("worker round failed; retrying")
            busy = 0
        if not busy:
            time.sleep(poll)


async def _run_nats(custody: Custody, party: str, url: str | None, stop: threading.Event, poll: float) -> None:
    from custody.exchange.nats import DEFAULT_URL, NatsTransport

    transport = NatsTransport(custody, url or DEFAULT_URL)
    await transport.start()
    log.info("worker serving %s over NATS JetStream at %s", party, transport.url)
    try:
        while not stop.is_set():
            try:
                busy = await transport.relay() + await transport.consume(party)
                busy += await asyncio.to_thread(_timers, custody, party)
            except Exception:
                log.exception("worker round failed; retrying")
                busy = 0
            if not busy:
                await asyncio.sleep(poll)
    finally:
        await transport.close()
