"""The application: each use case of the process in one transaction, shared by the CLI, the API and
the demo so that the same rules run whichever door a user comes in by."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody.audit import chain as audit
from custody.booking import service as bookings
from custody.booking.commands import BookingIn, MoveIn, ScheduleIn
from custody.booking.service import FingerprintImage
from custody.domain.clock import Clock, SystemClock
from custody.domain.errors import CustodyError, InvalidInput, NotFound
from custody.identity import service as identity
from custody.identity.commands import IdentityIn
from custody.law import engine as law_engine
from custody.law.loader import default_library
from custody.law.log import log_decision
from custody.release import service as release
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests import service as requests
from custody.requests.commands import CancelIn, RequestIn, ResponseIn, ServeIn
from custody.store import db
from custody.store.models import BookingRow, DecisionRow, EventRow, FederalRequestRow, HoldRow
from custody.store.paging import page
from custody.store.unit import Unit, unit_of_work

T = TypeVar("T")
BOOKINGS_ORDER = (BookingRow.booked_at.desc(), BookingRow.id)
REQUESTS_ORDER = (FederalRequestRow.issued_at.desc(), FederalRequestRow.id)


class Custody:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        actor: str = "system",
        transport: str = "inproc",
        inline: bool = True,
        reform: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """``transport`` says how messages travel between parties (``inproc``: the outbox is the queue;
        ``nats``: a relay publishes the outbox to JetStream). ``inline`` applies every message in this
        process right after each command: the embedded, one-process mode of `./dev up`, the CLI and
        the tests; worker processes (`custody worker`) run with it off."""
        self.engine = engine
        self.clock = clock or SystemClock()
        self.actor = actor
        self.transport = transport
        self.inline = inline
        # Called with (agency, DecisionRequest) before each decision; see store.unit.Unit.reform.
        self.reform = reform
        self._sessions: sessionmaker[Session] = db.session_factory(engine)
        self._batch = threading.local()  # the unit of this thread's open batch, if any

    @classmethod
    def open(
        cls,
        url: str | None = None,
        clock: Clock | None = None,
        actor: str = "system",
        transport: str = "inproc",
        inline: bool = True,
    ) -> Custody:
        engine = db.make_engine(url)
        db.upgrade(engine)
        return cls(engine, clock, actor, transport, inline)

    def acting_for(self, actor: str, inline: bool | None = None) -> Custody:
        """This facade on the same store, clock and transport, acting for ``actor`` (the audit log names
        them); ``inline`` as this one's unless given."""
        return Custody(
            self.engine, self.clock, actor, self.transport, self.inline if inline is None else inline, self.reform
        )

    def _transaction(self) -> AbstractContextManager[Unit]:
        return unit_of_work(self._sessions, self.clock, self.actor, self.transport == "inproc", self.reform)

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """One transaction; inside ``batch``, a savepoint of the batch's transaction (or the batch's
        transaction itself, if it was opened ``all_or_nothing``)."""
        open_batch: Unit | None = getattr(self._batch, "unit", None)
        if open_batch is not None:
            if getattr(self._batch, "all_or_nothing", False):
                yield open_batch
                return
            with open_batch.savepoint():
                yield open_batch
            return
        with self._transaction() as unit:
            yield unit

    @contextmanager
    def read(self) -> Iterator[Unit]:
        """A unit to read in: inside ``batch``, the batch's own transaction without a savepoint (a read
        leaves nothing to take back, and the savepoint's flush, SAVEPOINT and RELEASE cost more than
        most reads), so it sees what the batch wrote; otherwise a transaction of its own."""
        open_batch: Unit | None = getattr(self._batch, "unit", None)
        if open_batch is not None:
            yield open_batch
            return
        with self._transaction() as unit:
            yield unit

    @contextmanager
    def batch(self, all_or_nothing: bool = False) -> Iterator[None]:
        """Ingestion in bulk (the simulator, the benchmark): every command of this thread until the
        block ends runs in one transaction, each under its own savepoint, so a refused command still
        leaves nothing behind while the others commit together at the end. Messages go out when
        the batch has committed, never before. ``all_or_nothing``: no savepoints, because a command
        that fails fails the whole batch (an API call's change, its answer and its access entry)."""
        if getattr(self._batch, "unit", None) is not None:
            raise RuntimeError("a batch is already open in this thread")
        with self._transaction() as unit:
            self._batch.unit, self._batch.all_or_nothing = unit, all_or_nothing
            try:
                yield
            finally:
                self._batch.unit, self._batch.all_or_nothing = None, False
        if self.inline:
            self.deliver(unit.recipients)

    def _run(self, work: Callable[[Unit], T]) -> T:
        if getattr(self._batch, "unit", None) is not None:
            with self.unit() as unit:
                return work(unit)

        def once() -> tuple[T, set[str]]:
            with self.unit() as unit:
                result = work(unit)
            return result, unit.recipients

        # Workers applying batches lock several agencies' audit chains; a command caught in a lock
        # cycle with them is rolled back whole by PostgreSQL and simply runs again.
        result, recipients = db.with_retries(once)
        if self.inline:
            self.deliver(recipients)
        return result

    def deliver(self, parties: Iterable[str] | None = None) -> int:
        """Apply in this process (the in-process transport) the pending messages of ``parties``, and
        everything they cause in turn; every party's when None. After a command, only the parties it
        wrote to have work, so only their queues are claimed."""
        from custody.exchange.worker import EVERY_PARTY, drain

        return drain(self, EVERY_PARTY if parties is None else parties)

    # --- the process ---------------------------------------------------------------------

    def book(self, submission: BookingIn, prints: list[FingerprintImage] | None = None) -> BookingRow:
        return self._run(lambda u: bookings.book(u, submission, prints))

    def book_all(self, arrests: Sequence[tuple[BookingIn, list[FingerprintImage]]]) -> list[str | CustodyError]:
        """Many arrests at once, as a jail management system's feed sends them: each booking's id, or
        why that one was refused (the others are booked all the same)."""
        outcomes = self._run(lambda u: bookings.book_all(u, arrests))
        return [o if isinstance(o, CustodyError) else str(o["id"]) for o in outcomes]

    def _on_booking(self, booking_id: str, *steps: Callable[[Unit, BookingRow], object]) -> BookingRow:
        def work(u: Unit) -> BookingRow:
            booking = bookings.get(u, booking_id, for_change=True)
            for step in steps:
                step(u, booking)
            return booking

        return self._run(work)

    def _on_request(self, request_id: str, *steps: Callable[[Unit, FederalRequestRow], object]) -> FederalRequestRow:
        def work(u: Unit) -> FederalRequestRow:
            request = requests.get(u, request_id, for_change=True)
            for step in steps:
                step(u, request)
            return request

        return self._run(work)

    def add_prints(self, booking_id: str, prints: list[FingerprintImage]) -> None:
        self._on_booking(
            booking_id, *(lambda u, b, i=image: bookings.store_print(u, b.id, b.booking_agency, i) for image in prints)
        )

    def submit_prints(self, booking_id: str) -> int:
        """Submit the booking's stored prints for a new federal search; the number of images sent."""
        submitted: list[int] = []
        self._on_booking(booking_id, lambda u, b: submitted.append(bookings.submit_prints(u, b)))
        return submitted[0]

    def enrol(self, submission: IdentityIn, prints: list[FingerprintImage] | None = None) -> str:
        return self._run(lambda u: identity.enrol(u, submission, prints or []))

    def confirm_identification(
        self, identification_id: str, examiner: str, identity_id: str | None = None
    ) -> dict[str, Any]:
        """An examiner confirms a fingerprint candidate; inline, the agency has the hit on return."""
        return self._run(
            lambda u: identity.identification_summary(identity.confirm(u, identification_id, examiner, identity_id))
        )

    def reject_identification(self, identification_id: str, examiner: str, reason: str) -> dict[str, Any]:
        return self._run(
            lambda u: identity.identification_summary(identity.reject(u, identification_id, examiner, reason))
        )

    def identifications(
        self, limit: int, offset: int, state: str | None = None, where: ColumnElement[bool] | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Fingerprint identifications, oldest first; ``state='awaiting_examiner'`` is the examiner's queue."""
        with self.read() as u:
            return identity.identifications(u, limit, offset, state, where)

    def issue_request(self, submission: RequestIn) -> FederalRequestRow:
        """The federal side issues a request; inline, the agency has received and decided it on return."""
        issued = self._run(lambda u: requests.issue(u, submission))
        with self.read() as unit:
            return requests.get(unit, issued.id)

    def respond(self, request_id: str, submission: ResponseIn) -> FederalRequestRow:
        return self._on_request(
            request_id,
            lambda u, r: requests.respond(u, r, submission),
            lambda u, r: release.answered(u, r, submission.at),
        )

    def serve(self, request_id: str, submission: ServeIn) -> FederalRequestRow:
        return self._on_request(request_id, lambda u, r: requests.serve(u, r, submission))

    def cancel(self, request_id: str, submission: CancelIn) -> FederalRequestRow:
        return self._on_request(request_id, lambda u, r: requests.cancel(u, r, submission))

    def move(self, booking_id: str, submission: MoveIn) -> BookingRow:
        return self._on_booking(
            booking_id,
            lambda u, b: bookings.move(u, b, submission),
            lambda u, b: requests.relay(u, b, submission.at),
        )

    def schedule_release(self, booking_id: str, submission: ScheduleIn) -> BookingRow:
        return self._on_booking(booking_id, lambda u, b: release.schedule(u, b, submission))

    def release_eligible(self, booking_id: str, submission: ReleaseIn) -> BookingRow:
        return self._on_booking(booking_id, lambda u, b: release.release_eligible(u, b, submission))

    def release_eligible_all(self, arrivals: Sequence[tuple[str, ReleaseIn]]) -> list[BookingRow | CustodyError]:
        """Many bookings reach release eligibility at once: each as it now stands, or why it was refused."""
        return self._run(lambda u: release.release_eligible_all(u, arrivals))

    def transfer(self, booking_id: str, submission: TransferIn) -> BookingRow:
        return self._on_booking(booking_id, lambda u, b: release.transfer(u, b, submission))

    def tick(self, now: datetime | None = None, agency: str | None = None) -> list[str]:
        """Run every timer that is due (of one agency, or all): holds past their legal limit lapse."""
        moment = now or self.clock.now()
        lapsed: list[str] = []
        refused: set[str] = set()
        while True:  # a batch a transaction, so that a backlog does not hold the store's locks for long
            batch, more = self._run(lambda u: release.lapse_due_batch(u, moment, agency, refused))
            lapsed += batch
            if not more:
                return lapsed

    # --- reading ---------------------------------------------------------------------------

    def booking_view(self, booking_id: str) -> dict[str, Any]:
        with self.read() as u:
            booking = bookings.get(u, booking_id)
            requests_of_booking = list(
                u.session.scalars(
                    select(FederalRequestRow)
                    .where(FederalRequestRow.booking_id == booking_id)
                    .order_by(FederalRequestRow.issued_at)
                )
            )
            return {
                **booking_summary(booking),
                "person": booking.person,
                "charges": booking.charges,
                "convictions": booking.convictions,
                "requests": [request_summary(r) for r in requests_of_booking],
                "holds": [
                    hold_summary(h) for h in u.session.scalars(select(HoldRow).where(HoldRow.booking_id == booking_id))
                ],
                "timeline": _timeline(u, [booking_id, *(r.id for r in requests_of_booking)]),
            }

    def list_bookings(self, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        with self.read() as u:
            total, rows = page(u.session, select(BookingRow), limit, offset, *BOOKINGS_ORDER)
            return total, [booking_summary(b) for b in rows]

    def request_view(self, request_id: str) -> dict[str, Any]:
        with self.read() as u:
            request = requests.get(u, request_id)
            decision = u.session.get(DecisionRow, request.decision_id) if request.decision_id else None
            return {**request_summary(request), "decision": decision.result if decision else None}

    def list_requests(
        self, limit: int, offset: int, state: str | None = None, where: ColumnElement[bool] | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Requests newest first; ``where``: only those within it (the API's caller's jurisdiction)."""
        with self.read() as u:
            query = select(FederalRequestRow) if where is None else select(FederalRequestRow).where(where)
            if state:
                query = query.where(FederalRequestRow.state == state)
            total, rows = page(u.session, query, limit, offset, *REQUESTS_ORDER)
            return total, [request_summary(r) for r in rows]

    def events_for(self, party: str, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        with self.read() as u:
            query = select(EventRow).where(EventRow.to_party == party)
            total, rows = page(u.session, query, limit, offset, EventRow.seq)
            return total, [event_summary(e) for e in rows]

    def decision_log(self, decision_id: str) -> dict[str, Any] | None:
        with self.read() as u:
            row = u.session.get(DecisionRow, decision_id)
            if row is None:
                return None
            return {
                "decision_id": row.id,
                "request_id": row.request_id,
                "law_revision": row.law_revision,
                "inputs": row.inputs,
                "result": row.result,
                "trace": row.trace,
                "recorded_at": row.recorded_at.isoformat(),
            }

    def decide(self, document: Any) -> dict[str, Any]:
        """Decide a DecisionRequest and log the decision; invalid input raises InvalidInput."""
        decision = law_engine.decide(document)

        def work(u: Unit) -> None:
            log_decision(u, decision, document)

        self._run(work)
        return decision.to_contract()

    def explain(self, decision_id: str) -> dict[str, Any]:
        """The logged decision, re-evaluated from its inputs: the trace of every rule considered."""
        logged = self.decision_log(decision_id)
        if logged is None:
            raise NotFound(f"no logged decision '{decision_id}'; decision ids are printed by `custody law decide`")
        current = default_library().revision
        note = "the library changed since; this is the trace stored when the decision was made"
        trace = logged["trace"]
        if current == logged["law_revision"]:
            try:
                trace = law_engine.decide(logged["inputs"], decision_id=decision_id, fresh=True).trace()
                note = "re-evaluated from the logged inputs under the same law revision"
            except InvalidInput as refused:  # inputs a later check refuses: the record stands as made
                note = f"the logged inputs are now refused ({refused.detail}); this is the trace stored then"
        return {
            **logged,
            "trace": trace,
            "current_law_revision": current,
            "reevaluated": note.startswith("re-evaluated"),
            "note": note,
        }

    def verify_audit(self) -> list[audit.ChainReport]:
        with self.read() as u:
            return audit.verify(u.session)


def booking_summary(b: BookingRow) -> dict[str, Any]:
    person = b.person
    return {
        "id": b.id,
        "booking_number": b.booking_number,
        "booking_agency": b.booking_agency,
        "agency": b.agency,
        "agency_kind": b.agency_kind,
        "name": f"{person['last_name']}, {person['first_name']}",
        "booked_at": b.booked_at.isoformat(),
        "state": b.state,
        "identity_id": b.identity_id,
        "release_eligible_at": b.release_eligible_at.isoformat() if b.release_eligible_at else None,
        "release_planned_at": b.release_planned_at.isoformat() if b.release_planned_at else None,
        "left_custody_at": b.left_custody_at.isoformat() if b.left_custody_at else None,
    }


def request_summary(r: FederalRequestRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "booking_id": r.booking_id,
        "kind": r.kind,
        "form": r.form,
        "warrant": r.warrant,
        "actions": r.actions,
        "officer": r.officer,
        "issued_at": r.issued_at.isoformat(),
        "state": r.state,
        "agency": r.agency,
        "decision_id": r.decision_id,
        "served_at": r.served_at.isoformat() if r.served_at else None,
        "response": r.response,
    }


def hold_summary(h: HoldRow) -> dict[str, Any]:
    return {
        "id": h.id,
        "request_id": h.request_id,
        "starts_at": h.starts_at.isoformat(),
        "expires_at": h.expires_at.isoformat(),
        "max_hours": h.max_hours,
        "hold_clock": h.hold_clock,
        "state": h.state,
        "ended_at": h.ended_at.isoformat() if h.ended_at else None,
    }


def _timeline(u: Unit, ids: list[str]) -> list[dict[str, Any]]:
    """The events of a booking and its requests (``ids``), in the order recorded: those stored, then
    those this transaction recorded and has not written yet (an answer read back inside the
    transaction of its change, as an ``Idempotency-Key`` POST's is, would otherwise show none)."""
    stored = u.session.scalars(select(EventRow).where(EventRow.aggregate_id.in_(ids)).order_by(EventRow.seq))
    return [event_summary(e) for e in stored] + [event_summary(EventRow(**e)) for e in u.events_waiting(ids)]


def event_summary(e: EventRow) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "aggregate": e.aggregate,
        "aggregate_id": e.aggregate_id,
        # As the store gives them back (in UTC), whether the event is stored yet or not.
        "occurred_at": e.occurred_at.astimezone(UTC).isoformat(),
        "recorded_at": e.recorded_at.astimezone(UTC).isoformat(),
        "to_party": e.to_party,
        "data": e.data,
    }
