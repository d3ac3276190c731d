"""A claimed batch is applied in one transaction; one refused message in it is dead-lettered alone,
the others apply once, and a message already in the inbox changes nothing the second time."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.exchange.envelope import Message, MessageRefused, parse
from custody.exchange.handlers import HANDLERS
from custody.exchange.worker import MAX_ATTEMPTS, Outcome, apply, process
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeadLetterRow, DeliveryRow, EventRow, InboxRow, MessageRow
from custody.store.unit import Unit
from tests.exchange.support import send_answer_about_unknown_booking

LOCAL = f"local:{seed_scenarios.COOK}"
AFTER_BOOKING = datetime.fromisoformat("2017-08-16T10:00:00-05:00")


def _queued(custody: Custody, clock: ManualClock) -> Custody:
    """A second door on the same store that leaves messages queued for the test to deliver."""
    clock.set(AFTER_BOOKING)
    return Custody(custody.engine, clock, actor="test", inline=False)


def _book(service: Custody, number: str) -> str:
    return service.book(
        BookingIn.model_validate(
            {
                "agency": seed_scenarios.COOK,
                "booking_number": number,
                "booked_at": "2017-08-16T09:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        )
    ).id


def _count(service: Custody, model: type, *where: object) -> int:
    with service.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_a_refused_message_in_a_batch_is_dead_lettered_alone(custody: Custody, clock: ManualClock) -> None:
    queued = _queued(custody, clock)
    first, second = _book(queued, "B-1"), _book(queued, "B-2")
    assert process(queued, "federal") == 2  # the federal side answers both bookings
    send_answer_about_unknown_booking(queued, clock)  # and a third answer, about a booking never made
    assert process(queued, "local:*") == 3
    assert _count(queued, InboxRow, InboxRow.party == LOCAL) == 2
    with queued.unit() as unit:
        (reason,) = unit.session.scalars(select(DeadLetterRow.reason))
    assert "bkg_unknown" in reason
    for booking_id in (first, second):
        assert _count(queued, EventRow, EventRow.aggregate_id == booking_id, EventRow.type == "IdentificationReceived")
    assert _count(queued, DeliveryRow, DeliveryRow.state == "pending") == 0
    assert all(report.ok for report in queued.verify_audit())


def test_a_batch_redelivered_after_it_was_applied_changes_nothing(custody: Custody, clock: ManualClock) -> None:
    queued = _queued(custody, clock)
    booking_id = _book(queued, "B-3")
    assert process(queued, "federal") == 1
    assert process(queued, "local:*") == 1
    events = _count(queued, EventRow)
    assert _count(queued, DeliveryRow) == 0  # applied messages leave the queue
    with queued.unit() as unit:  # the leases ran out before the settlement was seen: all come back
        for message in unit.session.scalars(select(MessageRow)):
            unit.session.add(
                DeliveryRow(message_id=message.id, seq=message.seq, party=message.to_party, state="pending", attempts=1)
            )
    assert process(queued, "federal") + process(queued, "local:*") == 2
    assert _count(queued, EventRow) == events
    assert _count(queued, InboxRow) == 2
    assert _count(queued, DeliveryRow) == 0
    assert queued.booking_view(booking_id)["state"] == "in_custody"


def test_data_that_fails_its_schema_is_refused_whichever_validator_looks_first(
    custody: Custody, clock: ManualClock
) -> None:
    """The compiled validator must refuse what jsonschema refuses: an impossible date of birth."""
    _book(_queued(custody, clock), "B-4")
    with custody.unit() as unit:
        (raw,) = unit.session.scalars(select(MessageRow.envelope))
    assert parse(raw).data["person"]["date_of_birth"] == "1990-01-01"
    envelope = json.loads(raw)
    envelope["data"]["person"]["date_of_birth"] = "1990-02-30"
    with pytest.raises(MessageRefused, match="person/date_of_birth: '1990-02-30' is not a 'date'"):
        parse(json.dumps(envelope))


FINGERPRINTS = "gov.custody.booking.fingerprints_submitted.v1"


def _faulty_for(monkeypatch: pytest.MonkeyPatch, booking_number: str) -> None:
    """A fault of custody's own in the federal side's handler, for one booking's prints only (as a
    time the handler could not read was, before the envelope's checks caught it)."""
    real = HANDLERS[FINGERPRINTS]

    def handler(unit: Unit, messages: list[Message]) -> None:
        if any(m.data["booking_number"] == booking_number for m in messages):
            raise ValueError(f"a fault with {booking_number}")
        real(unit, messages)

    monkeypatch.setitem(HANDLERS, FINGERPRINTS, handler)


def _dead(service: Custody) -> list[str]:
    with service.unit() as unit:
        return list(unit.session.scalars(select(DeadLetterRow.reason)))


def test_a_handlers_fault_with_one_message_dead_letters_it_alone(
    custody: Custody, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a review: the fault failed the whole batch at every attempt, until the faulty message
    and the innocent ones with it were dead-lettered together."""
    _faulty_for(monkeypatch, "B-FAULT")
    queued = _queued(custody, clock)
    for number in ("B-5", "B-FAULT", "B-6", "B-7"):
        _book(queued, number)
    with caplog.at_level(logging.WARNING, logger="custody.exchange"):
        assert process(queued, "federal") == 4
    assert "ValueError in its handler" in caplog.text and "B-FAULT" not in caplog.text  # the error may quote data
    assert _count(queued, InboxRow, InboxRow.party == "federal") == 3
    assert _dead(queued) == ["ValueError: a fault with B-FAULT"]
    assert _count(queued, DeliveryRow, DeliveryRow.state == "pending") == 3  # the answers to the 3 others


def test_a_handlers_fault_never_fails_the_command_that_sent_the_message(
    custody: Custody, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: in the one-process mode the booking, committed, raised the handler's error,
    and so did every booking after it, the faulty message still first in the queue."""
    _faulty_for(monkeypatch, "B-FAULT")
    clock.set(AFTER_BOOKING)
    _book(custody, "B-FAULT")
    booking_id = _book(custody, "B-8")
    assert _dead(custody) == ["ValueError: a fault with B-FAULT"]
    assert _count(custody, EventRow, EventRow.aggregate_id == booking_id, EventRow.type == "IdentificationReceived")


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_store_that_refuses_the_messages_never_fails_the_command_that_sent_them(
    custody: Custody, clock: ManualClock
) -> None:
    """The command has committed; its messages stay queued for a worker or the next command."""
    clock.set(AFTER_BOOKING)
    _refuse_every_inbox_row(custody)
    booking_id = _book(custody, "B-9")
    assert custody.booking_view(booking_id)["booking_number"] == "B-9"
    assert _count(custody, DeliveryRow, DeliveryRow.state == "pending") == 1
    assert _dead(custody) == []


def _refuse_every_inbox_row(service: Custody) -> None:
    """PostgreSQL itself refuses to record any message as applied, at every attempt."""
    with service.unit() as unit:
        unit.session.execute(
            text(
                "CREATE FUNCTION refuse_all() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'the inbox refuses every row'; END $$ LANGUAGE plpgsql"
            )
        )
        unit.session.execute(
            text("CREATE TRIGGER refuse_all BEFORE INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION refuse_all()")
        )


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_message_that_failed_every_attempt_is_dead_lettered_with_the_last_error(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: the dead letter read only "failed 8 times; last tried by w1"."""
    queued = _queued(custody, clock)
    _book(queued, "B-10")
    _refuse_every_inbox_row(queued)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(SQLAlchemyError):
            process(queued, "federal", "w1")
        with queued.unit() as unit:  # the lease runs out
            unit.session.execute(update(DeliveryRow).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert process(queued, "federal", "w1") == 1
    (reason,) = _dead(queued)
    assert reason.startswith("failed 8 times; last tried by w1: ") and "the inbox refuses every row" in reason


def test_a_dead_letters_log_names_the_field_and_its_rule_not_the_value(
    custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a review: "'1988-14-14' is not a 'date'", a date of birth, was logged at WARNING.
    The dead letter, which only officers read (and the reading is logged), keeps the whole reason."""
    _book(_queued(custody, clock), "B-11")
    with custody.unit() as unit:
        (raw,) = unit.session.scalars(select(MessageRow.envelope))
    envelope = json.loads(raw)
    envelope["data"]["person"]["date_of_birth"] = "1988-14-14"
    with caplog.at_level(logging.WARNING, logger="custody.exchange"):
        assert apply(custody, "federal", json.dumps(envelope)) == Outcome.dead
    assert "'1988-14-14' is not a 'date'" in _dead(custody)[0]
    (logged,) = [record.getMessage() for record in caplog.records if "dead letter" in record.getMessage()]
    assert 'person/date_of_birth: breaks the schema\'s format rule ("date")' in logged and "1988" not in logged
