"""The identification check of a booking against the federal repository."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from custody.domain.errors import NotFound
from custody.domain.events import FEDERAL, Event, local_party
from custody.identity.commands import IdentityIn
from custody.store.models import BookingRow, FederalIdentifierRow, FederalIdentityRow, InboxRow
from custody.store.unit import Unit, new_id

FEDERAL_CHAIN = FEDERAL
SUBMITTED = "gov.custody.booking.fingerprints_submitted.v1"


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


def rap_sheet(unit: Unit, identifiers: dict[str, str], before: str, booking_id: str) -> list[dict[str, Any]]:
    """The earlier submissions the federal side received for the same person (any shared identifier):
    the bookings that make up the record it sends back, oldest first."""
    pairs = set(identifiers.items())
    earlier = []
    for row in unit.session.scalars(
        select(InboxRow).where(InboxRow.party == FEDERAL, InboxRow.type == SUBMITTED).order_by(InboxRow.applied_at)
    ):
        data = row.data
        if data["booking_id"] == booking_id or data["booked_at"] >= before:
            continue
        if pairs & set(data["person"]["identifiers"].items()):
            earlier.append(
                {
                    "booking_id": data["booking_id"],
                    "agency": data["agency"],
                    "booked_at": data["booked_at"],
                    "charges": data["charges"],
                }
            )
    return sorted(earlier, key=lambda b: b["booked_at"])


def identify(unit: Unit, data: dict[str, Any]) -> None:
    """The federal side searches its repository for a submitted booking and answers the agency: a hit
    tells the federal side who is in which jail, and sends the agency the record."""
    identifiers: dict[str, str] = data["person"]["identifiers"]
    identity = None
    if identifiers:
        identity = unit.session.scalars(
            select(FederalIdentityRow)
            .join(FederalIdentifierRow, FederalIdentifierRow.identity_id == FederalIdentityRow.id)
            .where(tuple_(FederalIdentifierRow.id_type, FederalIdentifierRow.value).in_(list(identifiers.items())))
            .limit(1)
        ).first()
    answer: dict[str, Any] = {"booking_id": data["booking_id"], "agency": data["agency"], "hit": identity is not None}
    occurred = datetime.fromisoformat(data["booked_at"])
    if identity is not None:
        matched = sorted(
            row.id_type
            for row in unit.session.scalars(
                select(FederalIdentifierRow).where(FederalIdentifierRow.identity_id == identity.id)
            )
            if identifiers.get(row.id_type) == row.value
        )
        sheet = rap_sheet(unit, identifiers, data["booked_at"], data["booking_id"])
        answer.update(identity_id=identity.id, matched_on=matched, record=identity.record, rap_sheet=sheet)
        unit.emit(
            Event(
                "IdentityMatched",
                "booking",
                data["booking_id"],
                occurred,
                {
                    "identity_id": identity.id,
                    "matched_on": matched,
                    "agency": data["agency"],
                    "booking_number": data["booking_number"],
                    "person": data["person"],
                    "charges": data["charges"],
                    "convictions": data["convictions"],
                    "federal_record": identity.record,
                    "rap_sheet": sheet,
                },
            ),
            FEDERAL_CHAIN,
        )
    unit.emit(
        Event(
            "IdentificationResponded",
            "booking",
            data["booking_id"],
            occurred,
            answer,
            to_party=local_party(data["agency"]),
        ),
        FEDERAL_CHAIN,
    )


def record_identification(unit: Unit, data: dict[str, Any]) -> None:
    """The agency records the federal answer on the booking."""
    booking = unit.session.get(BookingRow, data["booking_id"])
    if booking is None:
        raise NotFound(f"no booking '{data['booking_id']}' for this identification response")
    booking.identity_id = data.get("identity_id")
    unit.emit(
        Event(
            "IdentificationReceived",
            "booking",
            booking.id,
            unit.clock.now(),
            {"hit": data["hit"], "identity_id": data.get("identity_id")},
        ),
        booking.booking_agency,
    )
