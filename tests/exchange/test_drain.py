"""The inline delivery claims only the queues that have work: after a command, those it wrote to;
then those the applied messages wrote to, following the chain (booking, federal identification, the
jail's answer) until nothing more is sent, instead of polling every party until all answer empty."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.domain.events import FEDERAL
from custody.exchange import worker
from custody.release.commands import ReleaseIn
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeliveryRow, EventRow, InboxRow

LOCAL = f"local:{seed_scenarios.COOK}"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"

Claims = list[tuple[str, int]]


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> Claims:
    """Every claim the drain makes, as (queue, messages taken), in order."""
    made: Claims = []
    real = worker.claim

    def claim(custody: Custody, party: str, me: str, limit: int = 50) -> list[worker.Claimed]:
        batch = real(custody, party, me, limit)
        made.append((party, len(batch)))
        return batch

    monkeypatch.setattr(worker, "claim", claim)
    return made


def _queued(custody: Custody, clock: ManualClock) -> Custody:
    """A second door on the same store that leaves messages queued for the test to deliver."""
    clock.set(datetime.fromisoformat("2017-08-16T10:00:00-05:00"))
    return Custody(custody.engine, clock, actor="test", inline=False)


def _book(service: Custody, number: str, agency: str = seed_scenarios.COOK) -> str:
    return service.book(
        BookingIn.model_validate(
            {
                "agency": agency,
                "booking_number": number,
                "booked_at": "2017-08-16T07:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        )
    ).id


def _pending(service: Custody) -> int:
    with service.unit() as unit:
        return unit.session.scalar(select(func.count()).where(DeliveryRow.state == "pending")) or 0


def test_a_booking_claims_the_federal_queue_then_the_jails_and_nothing_else(custody: Custody, claims: Claims) -> None:
    booking_id = _book(custody, "D-1")
    assert claims == [(FEDERAL, 1), (LOCAL, 1)]
    assert _pending(custody) == 0
    with custody.unit() as unit:
        received = unit.session.scalar(
            select(func.count()).where(EventRow.aggregate_id == booking_id, EventRow.type == "IdentificationReceived")
        )
        applied = set(unit.session.scalars(select(InboxRow.party)))
    assert received == 1
    assert applied == {FEDERAL, LOCAL}


def test_a_command_that_sends_no_message_claims_nothing(custody: Custody, claims: Claims) -> None:
    booking_id = _book(custody, "D-1")
    claims.clear()
    released = custody.release_eligible(
        booking_id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-16T07:30:00-05:00"})
    )
    assert released.state == "released"  # no federal request: nobody is told, so no queue has work
    assert claims == []


def test_answers_to_two_jails_are_claimed_as_one_local_batch(
    custody: Custody, clock: ManualClock, claims: Claims
) -> None:
    queued = _queued(custody, clock)
    _book(queued, "D-2")
    _book(queued, "D-3", MIAMI_DADE)
    assert worker.drain(queued, [FEDERAL]) == 4
    assert claims == [(FEDERAL, 2), ("local:*", 2)]
    assert _pending(queued) == 0


def test_a_full_batch_is_claimed_again_until_the_queue_is_empty(
    custody: Custody, clock: ManualClock, claims: Claims
) -> None:
    queued = _queued(custody, clock)
    for number in ("D-4", "D-5", "D-6"):
        _book(queued, number)
    assert worker.drain(queued, [FEDERAL], limit=2) == 6
    assert claims == [(FEDERAL, 2), (LOCAL, 2), (FEDERAL, 1), (LOCAL, 1)]
    assert _pending(queued) == 0


def test_delivering_for_every_party_takes_what_no_command_of_this_process_queued(
    custody: Custody, clock: ManualClock, claims: Claims
) -> None:
    queued = _queued(custody, clock)
    _book(queued, "D-7")
    assert queued.deliver() == 2
    assert claims == [(FEDERAL, 1), ("local:*", 1)]  # the answer is in a queue already due: no third claim
    assert _pending(queued) == 0
