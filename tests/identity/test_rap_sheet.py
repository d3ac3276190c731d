"""The rap sheet a hit carries: earlier submissions of the same identity or sharing an identifier,
read from the federal side's indexed submissions in one query (issue 8: it used to scan the whole
federal inbox for every hit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event

from custody.identity.commands import IdentityIn
from custody.identity.service import identify, rap_sheet
from custody.service import Custody
from custody.store.models import FederalSubmissionRow
from tests.identity.fingerprints import COOK, booking, prints


def _submission(booking_id: str, booked_at: str, identifiers: dict[str, str]) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "agency": COOK,
        "booking_number": booking_id.upper(),
        "booked_at": booked_at,
        "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01", "identifiers": identifiers},
        "charges": [{"offense": booking_id, "level": "misdemeanor"}],
        "convictions": [],
        "prints": [],
    }


def test_earlier_bookings_sharing_an_identifier_or_the_identity_in_one_query(custody: Custody) -> None:
    identity_id = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}))
    with custody.unit() as unit:
        # received before the identity was known by that number: no hit, but the same person
        identify(unit, _submission("b1", "2017-01-01T10:00:00-06:00", {"sid": "IL1"}))
        identify(unit, _submission("b2", "2017-02-01T10:00:00-06:00", {"fbi": "777X"}))  # hit, linked
        identify(unit, _submission("b3", "2017-03-01T10:00:00-06:00", {"sid": "IL3"}))  # someone else
        identify(unit, _submission("b9", "2017-12-01T10:00:00-06:00", {"sid": "IL1"}))  # later: not earlier
        for n in range(50):
            identify(unit, _submission(f"x{n}", "2017-04-01T10:00:00-05:00", {"sid": f"OTHER{n}"}))
        unit.session.flush()
        current = FederalSubmissionRow(
            booking_id="b4",
            agency=COOK,
            booked_at=datetime.fromisoformat("2017-06-01T10:00:00-05:00"),
            data=_submission("b4", "2017-06-01T10:00:00-05:00", {"sid": "IL1", "state": "X"}),
            identity_id=identity_id,
            received_at=datetime.fromisoformat("2017-06-01T10:00:00-05:00"),
        )
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        connection = unit.session.connection()
        event.listen(connection, "before_cursor_execute", count)
        sheet = rap_sheet(unit, current)
        event.remove(connection, "before_cursor_execute", count)
    assert [b["booking_id"] for b in sheet] == ["b1", "b2"]
    assert sheet[0] == {
        "booking_id": "b1",
        "agency": COOK,
        "booked_at": "2017-01-01T10:00:00-06:00",
        "charges": [{"offense": "b1", "level": "misdemeanor"}],
    }
    assert len(statements) == 1, statements


def test_a_first_arrest_has_an_empty_rap_sheet(custody: Custody) -> None:
    custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}))
    with custody.unit() as unit:
        identify(unit, _submission("b1", "2017-01-01T10:00:00-06:00", {"fbi": "777X"}))
        unit.session.flush()
        first = unit.session.get(FederalSubmissionRow, "b1")
        assert first is not None and first.identity_id is not None
        assert rap_sheet(unit, first) == []


def _rap_sheet(custody: Custody, booking_id: str) -> list[str]:
    (hit,) = [e for e in custody.booking_view(booking_id)["timeline"] if e["type"] == "IdentityMatched"]
    return [b["booking_id"] for b in hit["data"]["rap_sheet"]]


@pytest.mark.usefixtures("gallery")
def test_a_booking_an_examiner_ruled_someone_else_is_not_on_the_rap_sheet(custody: Custody) -> None:
    """Found by a review: a booking carrying the person's FBI number, whose prints an examiner found
    were not theirs, was on the person's rap sheet all the same (any earlier booking sharing an
    identifier was, whoever it was linked to); so was it while the examiner had not decided yet."""
    enrolled = custody.enrol(IdentityIn(names=["X, Xavier"], identifiers={"fbi": "F123"}), prints({2: "p1_1"}))
    examined = custody.book(
        booking("C-1", "2017-08-01T10:00:00-05:00", "Smith", "Sam", {"fbi": "F123"}), prints({2: "p1_2"})
    )
    waiting = custody.book(booking("C-2", "2017-08-05T10:00:00-05:00", "Doe", "Jan", {"fbi": "F123"}))
    assert _rap_sheet(custody, waiting.id) == []
    (identification,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    custody.reject_identification(identification["id"], "K. Examiner", "not him")
    assert custody.booking_view(examined.id)["identity_id"] is None
    later = custody.book(booking("C-3", "2017-08-10T10:00:00-05:00", "Doe", "Jan", {"fbi": "F123"}))
    assert custody.booking_view(later.id)["identity_id"] == enrolled
    assert _rap_sheet(custody, later.id) == [waiting.id]
