"""The identification check of a booking against the federal repository."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_

from custody.domain.events import FEDERAL, Event
from custody.identity.commands import IdentityIn
from custody.store.models import (
    BookingIdentifierRow,
    BookingRow,
    FederalIdentifierRow,
    FederalIdentityRow,
)
from custody.store.unit import Unit, new_id

FEDERAL_CHAIN = "federal"


def enrol(unit: Unit, identity: IdentityIn) -> FederalIdentityRow:
    row = FederalIdentityRow(
        id=new_id("idn"),
        names=identity.names,
        date_of_birth=identity.date_of_birth,
        record=identity.record,
        enrolled_at=unit.clock.now(),
    )
    unit.session.add(row)
    unit.session.flush()
    for id_type, value in identity.identifiers.items():
        unit.session.add(FederalIdentifierRow(identity_id=row.id, id_type=id_type.lower(), value=value))
    unit.emit(
        Event("IdentityEnrolled", "identity", row.id, unit.clock.now(), {"names": identity.names}),
        FEDERAL_CHAIN,
    )
    return row


def rap_sheet(unit: Unit, booking: BookingRow) -> list[dict[str, Any]]:
    """Earlier bookings of the same person, found by any shared identifier, oldest first."""
    pairs = [
        (i.id_type, i.value)
        for i in unit.session.scalars(select(BookingIdentifierRow).where(BookingIdentifierRow.booking_id == booking.id))
    ]
    if not pairs:
        return []
    same_person = select(BookingIdentifierRow.booking_id).where(
        tuple_(BookingIdentifierRow.id_type, BookingIdentifierRow.value).in_(pairs)
    )
    earlier = unit.session.scalars(
        select(BookingRow)
        .where(BookingRow.id.in_(same_person), BookingRow.id != booking.id, BookingRow.booked_at < booking.booked_at)
        .order_by(BookingRow.booked_at)
    )
    return [
        {
            "booking_id": b.id,
            "agency": b.booking_agency,
            "booked_at": b.booked_at.isoformat(),
            "charges": b.charges,
            "outcome": b.state,
        }
        for b in earlier
    ]


def identify(unit: Unit, booking: BookingRow, identifiers: dict[str, str]) -> FederalIdentityRow | None:
    """Search the federal repository; on a hit tell the federal side who is in which jail."""
    pairs = [(k, v) for k, v in identifiers.items()]
    identity = None
    if pairs:
        identity = unit.session.scalars(
            select(FederalIdentityRow)
            .join(FederalIdentifierRow, FederalIdentifierRow.identity_id == FederalIdentityRow.id)
            .where(tuple_(FederalIdentifierRow.id_type, FederalIdentifierRow.value).in_(pairs))
            .limit(1)
        ).first()
    if identity is None:
        unit.emit(
            Event("IdentityNotMatched", "booking", booking.id, booking.booked_at, {"searched": sorted(identifiers)}),
            booking.booking_agency,
        )
        return None
    booking.identity_id = identity.id
    unit.emit(
        Event(
            "IdentityMatched",
            "booking",
            booking.id,
            booking.booked_at,
            {
                "identity_id": identity.id,
                "matched_on": sorted(k for k, v in pairs),
                "agency": booking.agency,
                "booking_number": booking.booking_number,
                "person": booking.person,
                "charges": booking.charges,
                "convictions": booking.convictions,
                "federal_record": identity.record,
                "rap_sheet": rap_sheet(unit, booking),
            },
            to_party=FEDERAL,
        ),
        booking.booking_agency,
    )
    return identity
