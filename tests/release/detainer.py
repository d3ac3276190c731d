"""Bookings and detainers as the release, request and exchange tests start from: a booking, an
I-247A issued for it (delivered to the jail at once, or left on its way), and a booking with an
I-247A served and every action honored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from custody.booking.commands import BookingIn
from custody.law.model import Action
from custody.requests.commands import Answer, RequestIn, ResponseIn, ServeIn
from custody.service import Custody

PERSON = {"last_name": "Doe", "first_name": "Jo", "date_of_birth": "1990-01-01"}
THEFT = {"offense": "theft", "level": "misdemeanor"}


def booked(custody: Custody, agency: str, number: str, booked_at: str, charge: dict[str, Any] = THEFT) -> str:
    """The id of a booking of PERSON, charged with ``charge``."""
    document = {
        "agency": agency,
        "booking_number": number,
        "booked_at": booked_at,
        "person": PERSON,
        "charges": [charge],
    }
    return custody.book(BookingIn.model_validate(document)).id


def i247a(custody: Custody, booking: str, issued_at: str, warrant: str = "I-200", delivered: bool = True) -> str:
    """The id of an I-247A issued for the booking; ``delivered=False``: its message left on its way to
    the jail (issued by a federal side whose messages a worker applies later)."""
    federal = custody if delivered else custody.acting_for("federal-officer", inline=False)
    document = {
        "booking_id": booking,
        "form": "I-247A",
        "warrant": warrant,
        "officer": {"name": "O"},
        "issued_at": issued_at,
    }
    return federal.issue_request(RequestIn.model_validate(document)).id


def honored_detainer(
    custody: Custody, agency: str, number: str, booked_at: str, issued_at: str, charge: dict[str, Any]
) -> tuple[str, str]:
    """(booking id, request id): booked, an I-247A with an I-200 issued, served half an hour later,
    and hold, notice and transfer honored an hour after it was issued (the law must allow it)."""
    booking = booked(custody, agency, number, booked_at, charge)
    request = i247a(custody, booking, issued_at)
    issued = datetime.fromisoformat(issued_at)
    custody.serve(request, ServeIn(at=issued + timedelta(minutes=30)))
    custody.respond(
        request,
        ResponseIn(
            answers={a: Answer.honor for a in (Action.hold, Action.notify, Action.transfer)},
            at=issued + timedelta(hours=1),
        ),
    )
    return booking, request
