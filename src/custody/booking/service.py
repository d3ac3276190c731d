"""Booking an arrest and moving the person between local agencies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from custody.booking.commands import BookingIn, MoveIn
from custody.booking.model import CUSTODY, CustodyState
from custody.domain.divisions import parse_division
from custody.domain.errors import Conflict, InvalidInput, NotFound
from custody.domain.events import FEDERAL, Event
from custody.law.contract import DEFAULT_AGENCY_KIND
from custody.store.models import BookingIdentifierRow, BookingRow, FingerprintImageRow
from custody.store.unit import Unit, new_id

# A booking time more than this far ahead of the clock is a typing error, not a booking.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class FingerprintImage:
    position: int
    filename: str
    data: bytes


def get(unit: Unit, booking_id: str) -> BookingRow:
    row = unit.session.get(BookingRow, booking_id)
    if row is None:
        raise NotFound(f"no booking '{booking_id}'; list bookings with `custody bookings` or GET /bookings")
    return row


def agency_kind(division_id: str, given: str | None) -> str:
    return given or DEFAULT_AGENCY_KIND[parse_division(division_id).level]


def book(unit: Unit, submission: BookingIn, prints: list[FingerprintImage] | None = None) -> BookingRow:
    now = unit.clock.now()
    if submission.booked_at > now + CLOCK_SKEW:
        raise InvalidInput(f"booked_at {submission.booked_at.isoformat()} is in the future; check the date")
    if submission.person.date_of_birth >= submission.booked_at.date():
        raise InvalidInput("person.date_of_birth is not before the booking date; check the date of birth")
    if submission.booked_at.year - submission.person.date_of_birth.year > 130:
        raise InvalidInput("person.date_of_birth makes the person over 130 years old; check the date of birth")
    duplicate = unit.session.scalar(
        select(BookingRow.id).where(
            BookingRow.booking_agency == submission.agency, BookingRow.booking_number == submission.booking_number
        )
    )
    if duplicate:
        raise Conflict(
            f"booking number {submission.booking_number} of {submission.agency} is already booking {duplicate}"
        )
    person = submission.person.model_dump(mode="json")
    row = BookingRow(
        id=new_id("bkg"),
        booking_number=submission.booking_number,
        booking_agency=submission.agency,
        agency=submission.agency,
        agency_kind=agency_kind(submission.agency, submission.agency_kind),
        person=person,
        charges=[c.model_dump(mode="json", exclude_none=True) for c in submission.charges],
        convictions=[c.model_dump(mode="json", exclude_none=True) for c in submission.convictions],
        booked_at=submission.booked_at,
        recorded_at=now,
        state=CUSTODY.initial.value,
    )
    unit.session.add(row)
    unit.session.flush()  # the identifier rows refer to it, and the ORM orders by relationships only
    for id_type, value in submission.person.identifiers.items():
        unit.session.add(BookingIdentifierRow(booking_id=row.id, id_type=id_type, value=value))
    unit.emit(
        Event(
            "BookingRecorded",
            "booking",
            row.id,
            submission.booked_at,
            {"agency": row.agency, "booking_number": row.booking_number, "charges": row.charges},
        ),
        row.booking_agency,
    )
    stored = [store_print(unit, row, image) for image in prints or []]
    _submit(unit, row, stored, submission.booked_at)
    return row


def submit_prints(unit: Unit, booking: BookingRow) -> int:
    """Submit the booking's prints again, every image stored with it, for a new federal search.

    Prints taken or retaken after the booking (a capture refused, a finger bandaged at intake) reach
    the federal side only this way; a booking it already identified has nothing left to search.
    """
    if booking.identity_id is not None:
        raise Conflict(f"booking {booking.id} is already identified as {booking.identity_id}; nothing to search")
    stored = unit.session.execute(
        select(FingerprintImageRow.position, FingerprintImageRow.sha256)
        .where(FingerprintImageRow.booking_id == booking.id)
        .order_by(FingerprintImageRow.id)
    ).all()
    if not stored:
        raise InvalidInput(
            f"booking {booking.id} has no fingerprint image to submit; store them first "
            "(POST /bookings/{id}/fingerprints or the booking page)"
        )
    _submit(unit, booking, [(position, digest) for position, digest in stored], unit.clock.now(), resubmission=True)
    return len(stored)


def _submit(
    unit: Unit, row: BookingRow, stored: list[tuple[int, str]], occurred: datetime, *, resubmission: bool = False
) -> None:
    """The booking's identity and prints to the federal side, for search against its repository."""
    person_fields = ("last_name", "first_name", "middle_name", "date_of_birth", "aliases", "identifiers")
    data: dict[str, Any] = {
        "booking_id": row.id,
        "agency": row.agency,
        "booking_number": row.booking_number,
        "booked_at": row.booked_at.isoformat(),
        "person": {k: row.person[k] for k in person_fields},
        "charges": row.charges,
        "convictions": row.convictions,
        "prints": [{"position": p, "sha256": d} for p, d in stored],
    }
    if resubmission:
        data["resubmission"] = True
    unit.emit(Event("FingerprintsSubmitted", "booking", row.id, occurred, data, to_party=FEDERAL), row.booking_agency)


def store_print(unit: Unit, booking: BookingRow, image: FingerprintImage) -> tuple[int, str]:
    """Keep a fingerprint image as submitted; matching on it comes with the biometric search."""
    if not 1 <= image.position <= 10:
        raise InvalidInput(f"finger position {image.position} is not 1-10 (1 = right thumb ... 10 = left little)")
    if not image.data:
        raise InvalidInput(f"fingerprint image {image.filename} is empty")
    digest = hashlib.sha256(image.data).hexdigest()
    unit.session.add(
        FingerprintImageRow(
            booking_id=booking.id, position=image.position, filename=image.filename, sha256=digest, data=image.data
        )
    )
    unit.emit(
        Event(
            "FingerprintStored",
            "booking",
            booking.id,
            unit.clock.now(),
            {"position": image.position, "filename": image.filename, "sha256": digest},
        ),
        booking.booking_agency,
    )
    return image.position, digest


def transition(unit: Unit, booking: BookingRow, event: str) -> None:
    booking.state = CUSTODY.fire(CustodyState(booking.state), event).value


def move(unit: Unit, booking: BookingRow, submission: MoveIn) -> None:
    """The person passes to another local agency (a police lockup to the county jail)."""
    if submission.to_agency == booking.agency:
        raise Conflict(f"booking {booking.id} is already held by {booking.agency}")
    if submission.at < booking.booked_at:
        raise InvalidInput("the move cannot happen before the booking")
    transition(unit, booking, "move_to_agency")
    previous = booking.agency
    booking.agency = submission.to_agency
    booking.agency_kind = agency_kind(submission.to_agency, submission.agency_kind)
    unit.emit(
        Event(
            "CustodyMoved",
            "booking",
            booking.id,
            submission.at,
            {"from_agency": previous, "to_agency": booking.agency, "agency_kind": booking.agency_kind},
        ),
        previous,
    )
