"""The inline delivery claims only the queues that have work: after a command, those it wrote to;
then those the applied messages wrote to, following the chain (booking, federal identification, the
jail's answer) until nothing more is sent, instead of polling every party until all answer empty."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.domain.events import FEDERAL
from custody.exchange import worker
from custody.release.commands import ReleaseIn
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeadLetterRow, DeliveryRow, EventRow, InboxRow, MessageRow
from custody.store.unit import Unit
from tests.exchange.support import Takes, record_takes, send_answer_about_unknown_booking

LOCAL = f"local:{seed_scenarios.COOK}"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> Takes:
    """Every claim the drain makes, as (queue, messages taken), in order."""
    return record_takes(monkeypatch)


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


def test_a_booking_claims_the_federal_queue_then_the_jails_and_nothing_else(custody: Custody, claims: Takes) -> None:
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


def test_a_command_that_sends_no_message_claims_nothing(custody: Custody, claims: Takes) -> None:
    booking_id = _book(custody, "D-1")
    claims.clear()
    released = custody.release_eligible(
        booking_id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-16T07:30:00-05:00"})
    )
    assert released.state == "released"  # no federal request: nobody is told, so no queue has work
    assert claims == []


def test_answers_to_two_jails_are_claimed_as_one_local_batch(
    custody: Custody, clock: ManualClock, claims: Takes
) -> None:
    queued = _queued(custody, clock)
    _book(queued, "D-2")
    _book(queued, "D-3", MIAMI_DADE)
    assert worker.drain(queued, [FEDERAL]) == 4
    assert claims == [(FEDERAL, 2), ("local:*", 2)]
    assert _pending(queued) == 0


def test_a_full_batch_is_claimed_again_until_the_queue_is_empty(
    custody: Custody, clock: ManualClock, claims: Takes
) -> None:
    queued = _queued(custody, clock)
    for number in ("D-4", "D-5", "D-6"):
        _book(queued, number)
    assert worker.drain(queued, [FEDERAL], limit=2) == 6
    assert claims == [(FEDERAL, 2), (LOCAL, 2), (FEDERAL, 1), (LOCAL, 1)]
    assert _pending(queued) == 0


def test_delivering_for_every_party_takes_what_no_command_of_this_process_queued(
    custody: Custody, clock: ManualClock, claims: Takes
) -> None:
    queued = _queued(custody, clock)
    _book(queued, "D-7")
    assert queued.deliver() == 2
    assert claims == [(FEDERAL, 1), ("local:*", 1)]  # the answer is in a queue already due: no third claim
    assert _pending(queued) == 0


def test_a_batch_is_read_applied_and_deleted_in_one_transaction(custody: Custody, clock: ManualClock) -> None:
    """No lease is written and committed for a batch this process applies at once (issue 8)."""
    queued = _queued(custody, clock)
    for number in ("D-8", "D-9", "D-10"):
        _book(queued, number)
    statements: list[str] = []
    commits: list[int] = []
    listen = [
        ("before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql)),
        ("commit", lambda conn: commits.append(1)),
    ]
    for name, listener in listen:
        event.listen(queued.engine, name, listener)
    try:
        assert worker.drain(queued, [FEDERAL]) == 6
    finally:
        for name, listener in listen:
            event.remove(queued.engine, name, listener)
    assert len(commits) == 2  # the federal batch, then the jail's
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE DELIVERIES")]
    assert _pending(queued) == 0
    with queued.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(InboxRow)) == 6
        assert unit.session.scalar(select(func.count()).select_from(DeliveryRow)) == 0


def test_a_refused_message_in_a_drained_batch_is_dead_lettered_alone_its_attempt_counted(
    custody: Custody, clock: ManualClock
) -> None:
    queued = _queued(custody, clock)
    first, second = _book(queued, "D-11"), _book(queued, "D-12")
    assert worker.drain(queued, [FEDERAL]) == 4
    send_answer_about_unknown_booking(queued, clock)
    for booking_id in (first, second):  # their answers were applied before the refused one came
        assert queued.booking_view(booking_id)["state"] == "in_custody"
    assert worker.drain(queued, [LOCAL]) == 1
    with queued.unit() as unit:
        (dead,) = unit.session.scalars(select(DeadLetterRow))
        (delivery,) = unit.session.scalars(select(DeliveryRow))
    assert "bkg_unknown" in dead.reason
    assert (delivery.message_id, delivery.state, delivery.attempts) == (dead.message_id, "dead", 1)
    assert all(report.ok for report in queued.verify_audit())


def test_a_drained_batch_already_applied_changes_nothing(custody: Custody, clock: ManualClock) -> None:
    queued = _queued(custody, clock)
    _book(queued, "D-13")
    assert worker.drain(queued, [FEDERAL]) == 2
    events = _count_events(queued)
    with queued.unit() as unit:  # every delivery comes back, as after a lost settlement
        for message in unit.session.scalars(select(MessageRow)):
            unit.session.add(
                DeliveryRow(message_id=message.id, seq=message.seq, party=message.to_party, state="pending", attempts=0)
            )
    assert worker.drain(queued) == 2
    assert _count_events(queued) == events
    assert _pending(queued) == 0


def test_a_batch_that_fails_for_a_lock_is_applied_the_careful_way_once(
    custody: Custody, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = _queued(custody, clock)
    booking_id = _book(queued, "D-14")
    real, calls = worker.apply_batch, []

    def locked_once(unit: Unit, batch: list[worker.Claimed], me: str) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise OperationalError("INSERT INTO inbox", {}, Exception("database is locked"))
        real(unit, batch, me)

    monkeypatch.setattr(worker, "apply_batch", locked_once)
    assert worker.drain(queued, [FEDERAL]) == 2
    assert calls == [1, 1, 1]  # the federal batch twice (at once, then leased), then the jail's at once
    with queued.unit() as unit:
        received = unit.session.scalar(
            select(func.count()).where(EventRow.aggregate_id == booking_id, EventRow.type == "IdentificationReceived")
        )
        assert unit.session.scalar(select(func.count()).select_from(InboxRow)) == 2
    assert received == 1
    assert _pending(queued) == 0


def _count_events(service: Custody) -> int:
    with service.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(EventRow)) or 0
