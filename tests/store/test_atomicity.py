"""A refusal leaves the store exactly as it was: no half-written booking, event or audit entry."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.domain.errors import CustodyError, RefusedByLaw
from custody.release.commands import ReleaseIn
from custody.requests.commands import RequestIn, ResponseIn
from custody.service import Custody
from custody.store.models import Base

COOK = "ocd-division/country:us/state:il/county:cook"


def _counts(custody: Custody) -> dict[str, int]:
    with custody.unit() as unit:
        return {
            t.name: unit.session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        }


def test_a_refusal_late_in_a_release_rolls_back_everything_before_it(custody: Custody, clock: ManualClock) -> None:
    """The I-247A was never served, so the hold cannot start; the release notice and eligibility
    events written before that check must vanish with it."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking = custody.book(
        BookingIn.model_validate(
            {
                "agency": "ocd-division/country:us/state:tx/county:harris",
                "booking_number": "H-1",
                "booked_at": "2017-10-05T01:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        )
    )
    request = custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking.id,
                "form": "I-247A",
                "warrant": "I-205",
                "officer": {"name": "O"},
                "issued_at": "2017-10-05T02:00:00-05:00",
            }
        )
    )
    custody.respond(request.id, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    before = _counts(custody)
    with pytest.raises(RefusedByLaw, match="has no record of service"):
        custody.release_eligible(
            booking.id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"})
        )
    assert _counts(custody) == before
    assert custody.booking_view(booking.id)["state"] == "in_custody"
    assert all(r.ok for r in custody.verify_audit())


@pytest.mark.parametrize(
    "change",
    [
        {"agency": "ocd-division/country:us/state:il/county:cook/place:x"},
        {"booked_at": "2099-01-01T00:00:00Z"},
        {"person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1800-01-01"}},
    ],
)
def test_invalid_bookings_write_nothing(custody: Custody, change: dict[str, object]) -> None:
    base = {
        "agency": COOK,
        "booking_number": "C-1",
        "booked_at": "2017-08-16T01:00:00-05:00",
        "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
        "charges": [{"offense": "theft", "level": "misdemeanor"}],
    }
    before = _counts(custody)
    with pytest.raises(CustodyError):
        from custody.domain.inputs import parse_input

        custody.book(parse_input(BookingIn, {**base, **change}))
    assert _counts(custody) == before


def _booking(number: str, agency: str = COOK) -> BookingIn:
    return BookingIn.model_validate(
        {
            "agency": agency,
            "booking_number": number,
            "booked_at": "2017-08-16T01:00:00-05:00",
            "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
            "charges": [{"offense": "theft", "level": "misdemeanor"}],
        }
    )


def test_a_refused_command_in_a_batch_leaves_nothing_and_the_others_commit(
    custody: Custody, clock: ManualClock
) -> None:
    """In a batch each command has its own savepoint: the rows it wrote, flushed or still waiting
    for the bulk insert, go with it; the audit chain continues from the last command that stood."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking = custody.book(_booking("K-1", "ocd-division/country:us/state:tx/county:harris"))
    request = custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking.id,
                "form": "I-247A",
                "warrant": "I-205",
                "officer": {"name": "O"},
                "issued_at": "2017-10-05T02:00:00-05:00",
            }
        )
    )
    custody.respond(request.id, ResponseIn(at=datetime.fromisoformat("2017-10-05T03:00:00-05:00")))
    with custody.batch():
        before = custody.book(_booking("K-2"))
        with pytest.raises(RefusedByLaw, match="has no record of service"):  # refused after its first event
            custody.release_eligible(
                booking.id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"})
            )
        after = custody.book(_booking("K-3"))
    assert custody.booking_view(booking.id)["state"] == "in_custody"
    assert "ReleaseEligibilityReached" not in [e["type"] for e in custody.booking_view(booking.id)["timeline"]]
    for kept in (before, after):  # booked, and the federal answer delivered once the batch committed
        assert [e["type"] for e in custody.booking_view(kept.id)["timeline"]] == [
            "BookingRecorded",
            "FingerprintsSubmitted",
            "IdentificationResponded",
            "IdentificationReceived",
        ]
    assert all(r.ok for r in custody.verify_audit())


def test_an_error_escaping_a_batch_rolls_all_of_it_back(custody: Custody) -> None:
    before = _counts(custody)
    with pytest.raises(RuntimeError, match="the power went"), custody.batch():
        custody.book(_booking("K-4"))
        raise RuntimeError("the power went")
    assert _counts(custody) == before
    custody.book(_booking("K-4"))  # nothing of it stayed, not even its number
