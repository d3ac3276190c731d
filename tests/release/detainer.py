"""A booking with an I-247A served and every action honored, as the release tests start from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from custody.booking.commands import BookingIn
from custody.law.model import Action
from custody.requests.commands import Answer, RequestIn, ResponseIn, ServeIn
from custody.service import Custody

PERSON = {"last_name": "Doe", "first_name": "Jo", "date_of_birth": "1990-01-01"}


def honored_detainer(
    custody: Custody, agency: str, number: str, booked_at: str, issued_at: str, charge: dict[str, Any]
) -> tuple[str, str]:
    """(booking id, request id): booked, an I-247A with an I-200 issued, served half an hour later,
    and hold, notice and transfer honored an hour after it was issued (the law must allow it)."""
    booking = custody.book(
        BookingIn.model_validate(
            {"agency": agency, "booking_number": number, "booked_at": booked_at, "person": PERSON, "charges": [charge]}
        )
    ).id
    request = custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking,
                "form": "I-247A",
                "warrant": "I-200",
                "officer": {"name": "O"},
                "issued_at": issued_at,
            }
        )
    ).id
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
