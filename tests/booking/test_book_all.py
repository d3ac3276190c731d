"""A jail's feed books many arrests in one command: each good one is booked exactly as alone, each
bad one is refused alone and leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from custody.booking.service import FingerprintImage
from custody.domain.errors import Conflict, CustodyError, InvalidInput
from custody.service import Custody
from custody.store.models import BookingRow, EventRow
from tests.identity.fingerprints import booking


def _numbers(custody: Custody) -> list[str]:
    with custody.unit() as unit:
        return sorted(unit.session.scalars(select(BookingRow.booking_number)))


def test_a_feed_books_every_good_arrest_and_refuses_the_rest_alone(custody: Custody) -> None:
    custody.book(booking("C-0", "2017-08-01T10:00:00-05:00", "Doe", "Jan", {}))
    blank = FingerprintImage(11, "eleven.png", b"x")
    outcomes = custody.book_all(
        [
            (booking("C-1", "2017-08-01T11:00:00-05:00", "Roe", "Al", {"sid": "IL1"}), []),
            (booking("C-2", "2099-01-01T00:00:00-05:00", "Poe", "Ed", {}), []),  # in the future
            (booking("C-0", "2017-08-01T12:00:00-05:00", "Loe", "Bo", {}), []),  # number already booked
            (booking("C-3", "2017-08-01T12:00:00-05:00", "Moe", "Cy", {}), []),
            (booking("C-3", "2017-08-01T12:05:00-05:00", "Noe", "Di", {}), []),  # twice in one feed
            (booking("C-4", "2017-08-01T12:10:00-05:00", "Ooe", "Ev", {}), [blank]),  # finger 11
            (booking("C-5", "2017-08-01T12:20:00-05:00", "Qoe", "Fa", {"fbi": "9X"}), []),
        ]
    )
    kinds = [type(o).__name__ if isinstance(o, CustodyError) else "booked" for o in outcomes]
    assert kinds == ["booked", "InvalidInput", "Conflict", "booked", "Conflict", "InvalidInput", "booked"]
    duplicate = outcomes[2]
    assert isinstance(duplicate, Conflict) and "C-0" in duplicate.detail
    assert isinstance(outcomes[5], InvalidInput) and "not 1-10" in outcomes[5].detail
    assert _numbers(custody) == ["C-0", "C-1", "C-3", "C-5"]
    for booking_id in (o for o in outcomes if isinstance(o, str)):
        view = custody.booking_view(booking_id)
        types = [e["type"] for e in view["timeline"]]
        assert types[:2] == ["BookingRecorded", "FingerprintsSubmitted"]
        assert "IdentificationReceived" in types, "the federal side answered each booking of the feed"
    assert all(r.ok for r in custody.verify_audit())


def test_a_number_is_taken_only_within_its_own_agency(custody: Custody) -> None:
    """Numbers are looked up as (agency, number) pairs: another agency's C-7, or this agency's C-8
    beside another's C-7, does not make a booking a duplicate."""
    miami = "ocd-division/country:us/state:fl/county:miami-dade"
    custody.book(booking("C-7", "2017-08-01T10:00:00-05:00", "Doe", "Jan", {}))
    custody.book(booking("C-8", "2017-08-01T10:00:00-05:00", "Roe", "Al", {}).model_copy(update={"agency": miami}))
    outcomes = custody.book_all(
        [
            (booking("C-7", "2017-08-01T11:00:00-05:00", "Poe", "Ed", {}).model_copy(update={"agency": miami}), []),
            (booking("C-8", "2017-08-01T11:00:00-05:00", "Moe", "Cy", {}), []),
            (booking("C-7", "2017-08-01T11:05:00-05:00", "Noe", "Di", {}), []),  # this one is taken
        ]
    )
    kinds = [type(o).__name__ if isinstance(o, CustodyError) else "booked" for o in outcomes]
    assert kinds == ["booked", "booked", "Conflict"]
    assert _numbers(custody) == ["C-7", "C-7", "C-8", "C-8"]


def _record(custody: Custody, booking_id: str) -> list[tuple[str, dict[str, Any]]]:
    """A booking's events without what differs between two bookings of the same arrest."""
    with custody.unit() as unit:
        events = unit.session.scalars(
            select(EventRow).where(EventRow.aggregate_id == booking_id).order_by(EventRow.recorded_at, EventRow.id)
        )
        return sorted(
            (e.type, {k: v for k, v in e.data.items() if k not in ("booking_id", "booking_number")}) for e in events
        )


def test_booked_together_or_alone_the_record_is_the_same(custody: Custody) -> None:
    arrests = [
        booking(f"{i}", f"2017-08-01T1{i}:00:00-05:00", "Doe", f"Jan{i}", {"sid": f"IL{i}"} if i % 2 else {})
        for i in range(4)
    ]
    alone = [custody.book(a.model_copy(update={"booking_number": f"A-{a.booking_number}"})).id for a in arrests]
    together = custody.book_all(
        [(a.model_copy(update={"booking_number": f"T-{a.booking_number}"}), []) for a in arrests]
    )
    assert all(isinstance(t, str) for t in together)
    for one, other in zip(alone, together, strict=True):
        assert isinstance(other, str)
        assert _record(custody, one) == _record(custody, other)
        first, second = custody.booking_view(one), custody.booking_view(other)
        assert {k: v for k, v in first.items() if k not in ("id", "booking_number", "timeline")} == {
            k: v for k, v in second.items() if k not in ("id", "booking_number", "timeline")
        }


def test_a_feed_of_only_refusals_writes_nothing(custody: Custody) -> None:
    with custody.unit() as unit:
        before = unit.session.scalar(select(func.count()).select_from(EventRow))
    outcomes = custody.book_all([(booking("C-9", "2099-01-01T00:00:00-05:00", "Doe", "Jan", {}), [])])
    assert isinstance(outcomes[0], InvalidInput)
    with custody.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(EventRow)) == before
    assert _numbers(custody) == []


def test_one_booking_refused_is_an_error(custody: Custody) -> None:
    """`book` is a feed of one: its refusal is raised, not returned."""
    with pytest.raises(InvalidInput, match="in the future"):
        custody.book(booking("C-1", "2099-01-01T00:00:00-05:00", "Doe", "Jan", {}))
    assert _numbers(custody) == []
