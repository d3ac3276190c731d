"""Helpers shared by the exchange's tests (and the API's, which drains the same queues)."""

from __future__ import annotations

import asyncio

import pytest

from custody.domain.clock import ManualClock
from custody.domain.errors import ServiceUnavailable
from custody.domain.events import FEDERAL, Event
from custody.exchange import nats, worker
from custody.service import Custody
from custody.sim import seed_scenarios
from tests.conftest import skip_or_fail

Takes = list[tuple[str, int]]


def record_takes(monkeypatch: pytest.MonkeyPatch) -> Takes:
    """Every batch the inline delivery takes from now on, as (queue, messages taken), in order."""
    made: Takes = []
    real = worker.take

    def take(custody: Custody, party: str, me: str, limit: int) -> tuple[int, set[str]]:
        taken, recipients = real(custody, party, me, limit)
        made.append((party, taken))
        return taken, recipients

    monkeypatch.setattr(worker, "take", take)
    return made


def send_answer_about_unknown_booking(service: Custody, clock: ManualClock) -> None:
    """The federal side answers about a booking the agency never made: a message that must be refused."""
    with service.unit() as unit:
        unit.emit(
            Event(
                "IdentificationResponded",
                "booking",
                "bkg_unknown",
                clock.now(),
                {"booking_id": "bkg_unknown", "agency": seed_scenarios.COOK, "hit": False},
                to_party=f"local:{seed_scenarios.COOK}",
            ),
            FEDERAL,
        )


def nats_available(url: str = nats.DEFAULT_URL) -> None:
    """Skip (fail under CI) where no NATS JetStream server answers. Asked as the worker asks: with no
    attempt to reconnect allowed, nats-py tried for ever, and a test waited instead of skipping."""
    try:
        asyncio.run(nats.reachable(url))
    except ServiceUnavailable as exc:
        skip_or_fail(exc.detail)


def delete_stream(prefix: str) -> None:
    """Remove the JetStream stream a test made under its own prefix."""

    async def delete() -> None:
        client = await nats.nats.connect(nats.DEFAULT_URL, connect_timeout=2, max_reconnect_attempts=0)
        try:
            await client.jetstream().delete_stream(nats.stream_name(prefix))
        finally:
            await client.close()

    asyncio.run(delete())
