"""The tables. Each aggregate keeps its state column; every change is also an event row (the
outbox) and an audit entry, written in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from custody.store.crypto import EncryptedBinary, EncryptedText
from custody.store.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("booking_agency", "booking_number", name="uq_booking_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_number: Mapped[str] = mapped_column(String(64))
    booking_agency: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200), index=True)  # the agency holding the person now
    agency_kind: Mapped[str] = mapped_column(String(20))
    person: Mapped[dict[str, Any]]
    charges: Mapped[list[Any]]
    convictions: Mapped[list[Any]]
    booked_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(30), index=True)
    identity_id: Mapped[str | None] = mapped_column(String(40), index=True)
    release_reason: Mapped[str | None] = mapped_column(String(40))
    release_planned_at: Mapped[datetime | None]
    release_eligible_at: Mapped[datetime | None]
    left_custody_at: Mapped[datetime | None]


class BookingIdentifierRow(Base):
    """Identifiers of the booked person (FBI number, state id, A-number...): the key of the
    identification check in this release, and of the rap sheet."""

    __tablename__ = "booking_identifiers"
    __table_args__ = (Index("ix_booking_identifier", "id_type", "value"),)

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), primary_key=True)
    id_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class FingerprintImageRow(Base):
    __tablename__ = "fingerprint_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(EncryptedBinary)  # sealed at rest: store/crypto.py


class FederalIdentityRow(Base):
    """An identity enrolled in the federal repository, with the immigration record a hit carries."""

    __tablename__ = "federal_identities"
    # One encounter a booking: two paths keeping the same prints at once collide here.
    __table_args__ = (Index("uq_federal_identities_retained_from", "retained_from", unique=True),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    names: Mapped[list[Any]]
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    record: Mapped[dict[str, Any]]
    enrolled_at: Mapped[datetime]
    # Names the person was booked under since enrolment: a re-arrest under another name adds one.
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # The booking whose prints found no one and were kept as this identity (an arrest encounter);
    # None for an identity the federal side enrolled itself.
    retained_from: Mapped[str | None] = mapped_column(String(40))
    # The identity such an encounter turned out to be (its booking was linked to that one since): a
    # search that finds the encounter's prints offers that identity.
    merged_into: Mapped[str | None] = mapped_column(String(40), index=True)


class FederalIdentifierRow(Base):
    __tablename__ = "federal_identifiers"
    __table_args__ = (UniqueConstraint("id_type", "value", name="uq_federal_identifier"),)

    identity_id: Mapped[str] = mapped_column(ForeignKey("federal_identities.id"), primary_key=True)
    id_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class FederalSubmissionRow(Base):
    """A booking as the federal side received it (FingerprintsSubmitted), and the identity it was
    linked to: the rows a rap sheet is read from, by identity or by a shared identifier."""

    __tablename__ = "federal_submissions"

    booking_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency: Mapped[str] = mapped_column(String(200))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict[str, Any]]  # the message as received
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("federal_identities.id"), index=True)
    received_at: Mapped[datetime]


class FederalSubmissionIdentifierRow(Base):
    __tablename__ = "federal_submission_identifiers"
    __table_args__ = (Index("ix_federal_submission_identifier", "id_type", "value"),)

    booking_id: Mapped[str] = mapped_column(ForeignKey("federal_submissions.booking_id"), primary_key=True)
    id_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class IdentificationRow(Base):
    """Candidates of a booking's fingerprint search at or above the threshold, waiting for (or
    decided by) an examiner: identity/model.py's state machine."""

    __tablename__ = "identifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("federal_submissions.booking_id"), index=True)
    agency: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(30), index=True)
    candidates: Mapped[list[Any]]  # best first: identity_id, names, score, finger_scores
    threshold: Mapped[float]
    searched_at: Mapped[datetime]
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("federal_identities.id"))
    examiner: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class FederalRequestRow(Base):
    __tablename__ = "federal_requests"
    __table_args__ = (UniqueConstraint("booking_id", "form", "issued_at", name="uq_request_per_booking"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    form: Mapped[str] = mapped_column(String(10))
    warrant: Mapped[str] = mapped_column(String(20))
    actions: Mapped[list[Any]]
    officer: Mapped[dict[str, Any]]
    issued_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), index=True)
    agency: Mapped[str] = mapped_column(String(200), index=True)
    decision_id: Mapped[str | None] = mapped_column(String(40))
    response: Mapped[dict[str, Any] | None]
    served_at: Mapped[datetime | None]


class DecisionRow(Base):
    """The decision log (Open Policy Agent's model): inputs, result, law revision and trace."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("federal_requests.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    on: Mapped[date] = mapped_column(Date)
    law_revision: Mapped[str] = mapped_column(String(40))
    inputs: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    trace: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class HoldRow(Base):
    __tablename__ = "holds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("federal_requests.id"))
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    max_hours: Mapped[float]
    hold_clock: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), index=True)
    ended_at: Mapped[datetime | None]


class EventRow(Base):
    """Every domain event, in order. Rows addressed to another party are the exchange's outbox."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    aggregate: Mapped[str] = mapped_column(String(30))
    aggregate_id: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    to_party: Mapped[str | None] = mapped_column(String(220), index=True)


class AuditChainRow(Base):
    """The head of one agency's audit chain; locking it serialises writers of that agency only."""

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(220), primary_key=True)
    head_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    chain: Mapped[str] = mapped_column(String(220), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class RevokedTokenRow(Base):
    """A token its holder signed out with: refused from then on, until it would have expired anyway
    (when the row may go)."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class MessageRow(Base):
    """The outbox: a message written in the same transaction as the state change that causes it."""

    __tablename__ = "messages"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    to_party: Mapped[str] = mapped_column(String(220), index=True)
    subject: Mapped[str] = mapped_column(String(40))
    envelope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class DeliveryRow(Base):
    """The in-process transport's queue: one row per message, claimed by a worker of its party with a
    lease, so a worker killed mid-message loses nothing: the lease runs out and another takes it.
    The row leaves the queue in the transaction that applies its message (the inbox row records
    that); only a message sent to the dead letters keeps its row, in state ``dead``."""

    __tablename__ = "deliveries"
    # State first: a claim reads only the pending rows of its party (or range of parties), in order.
    __table_args__ = (Index("ix_delivery_pending", "state", "party", "seq"),)

    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(220))
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxRow(Base):
    """The idempotent inbox: a message id applied by a party is recorded in the same transaction as
    its effect, so a second delivery of it changes nothing. The message itself (type, subject, data)
    is its outbox row, which is kept: the inbox holds only the fact and time of its applying, not a
    second copy (migration 0006)."""

    __tablename__ = "inbox"
    # A worker checks a claimed batch against the inbox by message id, whatever the party.
    __table_args__ = (Index("ix_inbox_message", "message_id"),)

    party: Mapped[str] = mapped_column(String(220), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    applied_at: Mapped[datetime]


class DeadLetterRow(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party: Mapped[str] = mapped_column(String(220), index=True)
    message_id: Mapped[str | None] = mapped_column(String(80))
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class ClockRow(Base):
    """A shared simulated clock, so worker processes agree on "now" when tests and the chaos command
    run 48 hours of custody in seconds."""

    __tablename__ = "clock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    now: Mapped[datetime]


class SimulationJournalRow(Base):
    """What a simulation knows that the rest of the store does not (the arrests still to come, the
    cases it follows, its tally), written in the transaction of each batch it commits: a snapshot,
    then what each batch changed. ``custody simulate --resume`` carries a killed run on from its last
    commit (custody.sim.journal)."""

    __tablename__ = "simulation_journal"

    run: Mapped[str] = mapped_column(String(40), primary_key=True)  # the run's booking-number prefix
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    snapshot: Mapped[bool]
    finished: Mapped[bool]
    simulated_to: Mapped[datetime]
    state: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime]


class WebhookSubscriptionRow(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Sealed under the data key: a secret of at most 64 characters is at most 184 sealed.
    secret: Mapped[str] = mapped_column(EncryptedText(200))
    types: Mapped[list[Any]]
    created_at: Mapped[datetime]


class WebhookAttemptRow(Base):
    """Every delivery attempt to an outside subscriber, kept (HMPPS Book a Secure Move's model)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(40), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool]
    next_attempt_at: Mapped[datetime | None]
