"""The unit of work: one transaction in which a state change, its event (the outbox row) and its
audit entry are written together, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from custody.audit import chain as audit
from custody.domain.clock import Clock
from custody.domain.events import Event
from custody.store.models import EventRow


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


@dataclass
class Unit:
    session: Session
    clock: Clock
    actor: str

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


@contextmanager
def unit_of_work(factory: sessionmaker[Session], clock: Clock, actor: str) -> Iterator[Unit]:
    with factory() as session, session.begin():
        yield Unit(session, clock, actor)
