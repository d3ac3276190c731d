"""The NATS JetStream transport.

A relay publishes the outbox to JetStream, one subject per receiving party, with the message id as
``Nats-Msg-Id`` so JetStream drops a message published twice (a relay killed between publishing and
marking the row). Each party's workers pull from one durable consumer, so several workers of one
party share its messages as a queue group; a message is acknowledged only after its effect and
inbox row are committed, so a worker killed mid-message loses nothing: JetStream redelivers it and
the inbox makes the second delivery a no-op.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from datetime import UTC, datetime

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.client import JetStreamContext
from sqlalchemy import select, update

from custody.domain.errors import ServiceUnavailable
from custody.exchange.worker import MAX_ATTEMPTS, Claimed, apply_all, dead_letter, exhausted, worker_id
from custody.observability import masked, url_without_secrets
from custody.service import Custody
from custody.store.db import describe
from custody.store.models import MessageRow

log = logging.getLogger("custody.exchange.nats")
DEFAULT_URL = "nats://127.0.0.1:4222"
# Every deployment (and every chaos run) may use its own stream and subject prefix.
PREFIX = os.environ.get("CUSTODY_NATS_PREFIX", "custody")
ACK_WAIT = float(os.environ.get("CUSTODY_ACK_WAIT_SECONDS", "30"))
# What the connection reports when the server goes away or cannot be reached.
LOST = (OSError, nats.errors.UnexpectedEOF, nats.errors.StaleConnectionError)


def subject_for(party: str, prefix: str = PREFIX) -> str:
    """``federal`` → ``custody.federal``; ``local:<division>`` → ``custody.local.<division as a token>``."""
    if party == "federal":
        return f"{prefix}.federal"
    kind, _, division = party.partition(":")
    if division == "*":
        return f"{prefix}.local.*"
    return f"{prefix}.{kind}.{re.sub(r'[^A-Za-z0-9_-]', '_', division)}"


def consumer_name(party: str, prefix: str = PREFIX) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", subject_for(party, prefix).replace("*", "all"))


def stream_name(prefix: str = PREFIX) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", prefix).upper()


async def ensure_stream(js: JetStreamContext, prefix: str = PREFIX) -> None:
    try:
        await js.stream_info(stream_name(prefix))
    except nats.js.errors.NotFoundError:
        await js.add_stream(StreamConfig(name=stream_name(prefix), subjects=[f"{prefix}.>"], duplicate_window=600.0))


class NatsTransport:
    """One connection per worker process; one durable pull subscription per party it serves."""

    def __init__(self, custody: Custody, url: str = DEFAULT_URL, prefix: str = PREFIX) -> None:
        self.custody = custody
        self.url = url
        self.prefix = prefix
        self._client: NATS | None = None
        self._js: JetStreamContext | None = None
        self._subscriptions: dict[str, JetStreamContext.PullSubscription] = {}
        self._me = worker_id()

    async def start(self) -> None:
        """Connect, and reconnect after an outage for as long as it lasts (found by a review: after
        three attempts the connection closed for good, and the worker failed at every poll until
        it was restarted). The outage is logged once, not at every attempt."""
        await reachable(self.url)
        self._client = await nats.connect(
            self.url,
            connect_timeout=5,
            max_reconnect_attempts=-1,
            disconnected_cb=self._disconnected,
            reconnected_cb=self._reconnected,
            error_cb=self._error,
        )
        self._js = self._client.jetstream()
        await ensure_stream(self._js, self.prefix)

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def _disconnected(self) -> None:
        if self._client is not None and self._client.is_reconnecting:
            log.warning("lost NATS at %s; reconnecting until it is back", masked(self.url))

    async def _reconnected(self) -> None:
        log.warning("reconnected to NATS at %s", masked(self.url))

    async def _error(self, exc: Exception) -> None:
        """The connection's loss and each failed attempt to reconnect in one line at DEBUG (the
        outage is logged once, when it starts); any other error of the connection at WARNING."""
        lost = isinstance(exc, LOST) or not self.connected
        (log.debug if lost else log.warning)("NATS at %s: %s", masked(self.url), describe(exc))

    async def close(self) -> None:
        """Leave the pull subscriptions first: a fetch that ran out leaves the server's timeout
        status in the subscription's queue, which no one reads, and draining waited on it for the
        whole drain timeout (30 s) before a stopped worker could exit. A message fetched and not
        acknowledged is redelivered by JetStream, so nothing is lost by leaving. During an outage
        there is nothing to leave or drain: closing ends the reconnecting (found by a review:
        draining a lost connection raised, and a worker stopped then "failed unexpectedly")."""
        if self._client is None:
            return
        if not self._client.is_connected:
            await self._client.close()
            return
        for subscription in self._subscriptions.values():
            await subscription.unsubscribe()
        self._subscriptions.clear()
        await self._client.drain()

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NatsTransport.start() was not called")
        return self._js

    async def relay(self, limit: int = 200) -> int:
        """Publish unpublished outbox rows, oldest first; return how many were published."""
        with self.custody.unit() as unit:
            rows = list(
                unit.session.execute(
                    select(MessageRow.id, MessageRow.to_party, MessageRow.envelope)
                    .where(MessageRow.published_at.is_(None))
                    .order_by(MessageRow.seq)
                    .limit(limit)
                )
            )
        for message_id, to_party, envelope in rows:
            await self.js.publish(
                subject_for(to_party, self.prefix), envelope.encode(), headers={"Nats-Msg-Id": message_id}
            )
        if rows:
            with self.custody.unit() as unit:
                unit.session.execute(
                    update(MessageRow)
                    .where(MessageRow.id.in_([r[0] for r in rows]))
                    .values(published_at=datetime.now(UTC))
                )
        return len(rows)

    async def consume(self, party: str, batch: int = 50, timeout: float = 0.3) -> int:
        """Pull one batch for ``party`` and apply it in one transaction, acknowledged once committed;
        return how many messages were taken. A batch that fails is applied again one message at a
        time, so that a message the store keeps refusing fails alone (found by a review: it took the
        other messages of its batch with it, at every delivery)."""
        subscription = await self._subscription(party)
        try:
            messages = await subscription.fetch(batch, timeout=timeout)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when nothing is waiting
            return 0
        claimed = [_claimed(message, self.prefix) for message in messages]
        try:
            await asyncio.to_thread(apply_all, self.custody, claimed, self._me)
        except Exception as exc:
            log.warning("a batch on %s failed (%s); applying it one message at a time", party, describe(exc))
            for message, one in zip(messages, claimed, strict=True):
                await self._apply_alone(message, one)
            return len(messages)
        for message in messages:
            await message.ack()
        return len(messages)

    async def _subscription(self, party: str) -> JetStreamContext.PullSubscription:
        subscription = self._subscriptions.get(party)
        if subscription is None:
            subscription = await self.js.pull_subscribe(
                subject_for(party, self.prefix),
                durable=consumer_name(party, self.prefix),
                stream=stream_name(self.prefix),
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT, max_deliver=MAX_ATTEMPTS),
            )
            self._subscriptions[party] = subscription
        return subscription

    async def _apply_alone(self, message: Msg, claimed: Claimed) -> None:
        """Apply one message in a transaction of its own. If it fails on its last delivery, it goes to
        the dead-letter store with the error (found by a review: JetStream dropped it for good after
        ``max_deliver``, and no dead letter said so); before that, JetStream delivers it again."""
        try:
            await asyncio.to_thread(apply_all, self.custody, [claimed], self._me)
        except Exception as exc:
            delivered = message.metadata.num_delivered
            if delivered < MAX_ATTEMPTS:
                log.warning("message %s failed on delivery %d (%s)", claimed[0], delivered, describe(exc))
                await message.nak(delay=1.0)
                return
            message_id, party, _, raw = claimed
            reason = exhausted(delivered, self._me, describe(exc))
            await asyncio.to_thread(dead_letter, self.custody, party, message_id, raw, reason)
        await message.ack()


async def reachable(url: str) -> None:
    """Raise ServiceUnavailable, naming the server without its credentials and why it did not
    answer, unless a NATS server answers at ``url``. The worker's own connection tries again for as
    long as it takes, as it must after an outage, and so waited in silence for a server that was
    never there (found by a review: a mistyped address failed as custody "failing unexpectedly").
    nats-py gives up only after its last attempt (one here: with none, it never gives up)."""
    errors: list[Exception] = []

    async def heard(exc: Exception) -> None:
        errors.append(exc)

    try:
        client = await nats.connect(
            url, connect_timeout=5, allow_reconnect=False, max_reconnect_attempts=1, error_cb=heard
        )
    except (OSError, TimeoutError, ValueError, nats.errors.Error) as exc:
        raise ServiceUnavailable(
            f"NATS is not reachable at {url_without_secrets(url)} ({describe(errors[-1] if errors else exc)}); "
            "start it, or give its address with --nats-url or CUSTODY_NATS_URL"
        ) from None
    await client.close()


def _claimed(message: Msg, prefix: str) -> Claimed:
    """A JetStream message as the worker applies it: its id (the relay's ``Nats-Msg-Id``), party,
    deliveries before this one, and envelope."""
    raw = message.data.decode()
    message_id = (message.headers or {}).get("Nats-Msg-Id")
    return (message_id, _addressee(raw, message.subject, prefix), message.metadata.num_delivered - 1, raw)


def _addressee(raw: str, subject: str, prefix: str) -> str:
    """The party whose subject the message came on: its envelope's toparty where that party's
    subject is this one; otherwise the party the subject names, which the envelope is not addressed
    to, so that ``apply`` dead-letters it as misaddressed, as the in-process transport does (found by
    a review: the envelope alone was believed, and a message for the federal party published on a
    local agency's subject was applied by that agency's worker)."""
    toparty = _toparty(raw)
    if subject_for(toparty, prefix) == subject:
        return toparty
    kind, _, token = subject.removeprefix(f"{prefix}.").partition(".")
    return f"{kind}:{token}" if token else kind  # a division as its subject keeps it, in a token


def _toparty(raw: str) -> str:
    """The party an envelope names; an unreadable one names no one."""
    try:
        return str(json.loads(raw).get("toparty") or "unknown")
    except (ValueError, AttributeError):
        return "unknown"
