"""Issue 5 end to end: a booking's prints are searched against the federal repository, an examiner
confirms the candidate, the agency gets the hit with the record; the same person re-arrested under
another name and other identifiers is linked to the same identity, with the first booking on the
rap sheet. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from custody.domain.errors import Conflict, InvalidInput
from custody.identity.commands import IdentityIn
from custody.service import Custody
from custody.store.models import AuditEntryRow, FederalIdentityRow
from tests.identity.fingerprints import (  # noqa: F401 (fixtures)
    FIRST_VISIT,
    SECOND_VISIT,
    blank_gallery,
    booking,
    gallery,
    prints,
)


def _events(custody: Custody, booking_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in custody.booking_view(booking_id)["timeline"] if e["type"] == kind]


@pytest.mark.usefixtures("gallery")
def test_a_re_arrest_under_another_name_is_linked_by_prints_after_the_examiner_confirms(custody: Custody) -> None:
    identity_id = custody.enrol(
        IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}, record={"a_number": "A000000777"}),
        prints(FIRST_VISIT),
    )

    first = custody.book(
        booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {"sid": "IL1"}), prints(SECOND_VISIT)
    )
    # the search found the enrolled person, but no case opens before an examiner confirms
    assert custody.booking_view(first.id)["identity_id"] is None
    assert _events(custody, first.id, "IdentificationReceived") == []
    total, queue = custody.identifications(10, 0, state="awaiting_examiner")
    assert total == 1
    (waiting,) = queue
    assert waiting["booking_id"] == first.id
    assert waiting["candidates"][0]["identity_id"] == identity_id
    assert waiting["candidates"][0]["score"] >= waiting["threshold"]
    assert set(waiting["candidates"][0]["finger_scores"]) == {"1", "2"}  # like finger positions compared

    confirmed = custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert confirmed["state"] == "confirmed" and confirmed["identity_id"] == identity_id
    assert custody.booking_view(first.id)["identity_id"] == identity_id
    (hit,) = _events(custody, first.id, "IdentityMatched")
    assert hit["data"]["matched_on"] == ["fingerprints"]
    assert hit["data"]["federal_record"] == {"a_number": "A000000777"}
    assert hit["data"]["rap_sheet"] == []
    (received,) = _events(custody, first.id, "IdentificationReceived")
    assert received["data"] == {"hit": True, "identity_id": identity_id}
    with custody.unit() as unit:
        audit = unit.session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "IdentificationConfirmed")
        ).one()
        assert audit.chain == "federal" and audit.data["examiner"] == "K. Examiner"

    second = custody.book(
        booking("C-2", "2017-08-10T22:00:00-05:00", "Smith", "John", {"sid": "IL2"}), prints(FIRST_VISIT)
    )
    _, queue = custody.identifications(10, 0, state="awaiting_examiner")
    (waiting,) = queue
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(second.id)["identity_id"] == identity_id
    (rehit,) = _events(custody, second.id, "IdentityMatched")
    (earlier,) = rehit["data"]["rap_sheet"]  # no identifier in common: linked by the identity alone
    assert earlier["booking_id"] == first.id
    assert rehit["data"]["person"]["last_name"] == "Smith"
    with custody.unit() as unit:
        identity = unit.session.get(FederalIdentityRow, identity_id)
        assert identity is not None
        assert identity.aliases == ["ROE, JACK", "SMITH, JOHN"]


@pytest.mark.usefixtures("gallery")
def test_no_candidate_at_the_threshold_is_answered_by_identifiers_at_once(custody: Custody) -> None:
    custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints({1: "p1_1"}))
    # another finger laid on position 1: it scores below the fusion floor against the enrolled one
    booked = custody.book(booking("C-3", "2017-08-01T10:00:00-05:00", "Poe", "Ed", {"sid": "IL3"}), prints({1: "p2_1"}))
    assert custody.identifications(10, 0)[0] == 0
    (received,) = _events(custody, booked.id, "IdentificationReceived")
    assert received["data"] == {"hit": False, "identity_id": None}
    (searched,) = _events(custody, booked.id, "FingerprintsSearched")
    assert searched["data"]["candidates"][0]["score"] < searched["data"]["threshold"]


@pytest.mark.usefixtures("gallery")
def test_prints_added_after_the_booking_are_searched_when_submitted_again(custody: Custody) -> None:
    identity_id = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints(FIRST_VISIT))
    # booked with one finger that is not the person's: searched, no one found, answered by identifiers
    booked = custody.book(booking("C-4", "2017-08-01T10:00:00-05:00", "Poe", "Ed", {"sid": "IL4"}), prints({1: "p2_1"}))
    assert custody.identifications(10, 0)[0] == 0
    with pytest.raises(InvalidInput, match="no fingerprint image"):
        custody.submit_prints(custody.book(booking("C-5", "2017-08-01T11:00:00-05:00", "Lo", "Al", {})).id)
    # the retaken prints are stored, then submitted: every image of the booking is searched again
    custody.add_prints(booked.id, prints(SECOND_VISIT))
    assert custody.submit_prints(booked.id) == 3
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert waiting["booking_id"] == booked.id and waiting["candidates"][0]["identity_id"] == identity_id
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(booked.id)["identity_id"] == identity_id
    first, again = _events(custody, booked.id, "FingerprintsSearched")
    assert len(again["data"]["candidates"]) >= 1 and again["data"]["candidates"][0]["identity_id"] == identity_id
    assert (
        first["data"]["candidates"][0]["score"] < first["data"]["threshold"] <= again["data"]["candidates"][0]["score"]
    )
    # identified: nothing is left to search
    with pytest.raises(Conflict, match="already identified"):
        custody.submit_prints(booked.id)
