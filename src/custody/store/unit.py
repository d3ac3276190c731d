"""The unit of work: one transaction in which a state change, its event (the outbox row) and its
audit entry are written together, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from custody.audit import chain as audit
from custody.domain.clock import Clock
from custody.domain.events import FEDERAL, Event
from custody.exchange import envelope
from custody.exchange.catalogue import BY_EVENT
from custody.store.models import DeliveryRow, EventRow, MessageRow


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


@dataclass
class Unit:
    session: Session
    clock: Clock
    actor: str
    # The in-process transport reads its queue from delivery rows; NATS reads the outbox directly.
    inproc: bool = True
    # A what-if reform (OpenFisca's word): rewrites a DecisionRequest before the engine decides it,
    # e.g. to place one agency under another jurisdiction's law of a given date. None: the real law.
    reform: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None

    def emit(self, event: Event, chain: str) -> EventRow:
        """Record an event and its audit entry on the chain of the agency (or party) it concerns."""
        recorded_at = self.clock.now()
        row = EventRow(
            id=new_id("evt"),
            type=event.type,
            aggregate=event.aggregate,
            aggregate_id=event.aggregate_id,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
            data=event.data,
            to_party=event.to_party,
        )
        self.session.add(row)
        if event.to_party is not None:
            self._send(row, chain)
        audit.append(
            self.session,
            chain,
            recorded_at=recorded_at,
            actor=self.actor,
            action=event.type,
            subject=f"{event.aggregate}:{event.aggregate_id}",
            data={"event_id": row.id, "occurred_at": event.occurred_at.isoformat(), **event.data},
        )
        return row

    def _send(self, event: EventRow, chain: str) -> None:
        """The outbox: the message is written in the same transaction as the event that causes it."""
        message_type = BY_EVENT.get(event.type)
        if message_type is None:
            raise ValueError(f"event {event.type} is addressed to {event.to_party} but is not in the message catalogue")
        assert event.to_party is not None
        source = "urn:custody:federal" if chain == FEDERAL else f"urn:custody:local:{chain}"
        message = envelope.build(
            event.id, message_type, source, event.aggregate_id, event.occurred_at, event.to_party, event.data
        )
        row = MessageRow(
            id=message.id,
            type=message_type.type,
            to_party=event.to_party,
            subject=message.subject,
            envelope=message.to_json().decode(),
            created_at=event.recorded_at,
        )
        self.session.add(row)
        if self.inproc:
            self.session.flush()
            self.session.add(
                DeliveryRow(message_id=row.id, seq=row.seq, party=row.to_party, state="pending", attempts=0)
            )


@contextmanager
def unit_of_work(
    factory: sessionmaker[Session],
    clock: Clock,
    actor: str,
    inproc: bool = True,
    reform: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[Unit]:
    with factory() as session, session.begin():
        yield Unit(session, clock, actor, inproc, reform)
