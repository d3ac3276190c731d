"""Issue 5 end to end: a booking's prints are searched against the federal repository, an examiner
confirms the candidate, the agency gets the hit with the record; the same person re-arrested under
another name and other identifiers is linked to the same identity, with the first booking on the
rap sheet. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, InvalidInput
from custody.identity import biometrics, settings
from custody.identity.commands import IdentityIn
from custody.identity.prints.gallery import Gallery, Identity
from custody.service import Custody
from custody.store.models import AuditEntryRow, FederalIdentityRow
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, booking, prints


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


def _kept(custody: Custody, booking_id: str) -> FederalIdentityRow:
    with custody.unit() as unit:
        (kept,) = unit.session.scalars(select(FederalIdentityRow).where(FederalIdentityRow.retained_from == booking_id))
        unit.session.expunge(kept)
        return kept


def test_a_person_the_repository_never_knew_is_linked_by_prints_at_the_next_arrest(
    custody: Custody, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: only people the federal side had enrolled itself were ever linked by prints,
    so a first arrest's prints were answered and forgotten. They are now kept as an encounter (the
    answer stays "no hit"), and the same person booked again under another name, with no identifier in
    common, goes to the examiner and is linked, with the first booking on the rap sheet. No gallery
    exists before the first booking: it is created by it."""
    monkeypatch.setenv("CUSTODY_GALLERY", str(tmp_path / "no-gallery-yet"))
    first = custody.book(
        booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {"sid": "IL1"}), prints(FIRST_VISIT)
    )
    (received,) = _events(custody, first.id, "IdentificationReceived")
    assert received["data"] == {"hit": False, "identity_id": None}
    assert custody.booking_view(first.id)["identity_id"] is None
    kept = _kept(custody, first.id)
    assert (kept.names, kept.record, kept.date_of_birth.isoformat() if kept.date_of_birth else None) == (
        ["ROE, JACK"],
        {},
        "1990-01-01",
    )
    with custody.unit() as unit:
        enrolled = unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "IdentityEnrolled")).all()
        assert [(e.chain, e.subject, e.data["fingers"], e.data["retained_from"]) for e in enrolled] == [
            ("federal", f"identity:{kept.id}", [1, 2], first.id)
        ]

    second = custody.book(
        booking("C-2", "2017-08-10T10:00:00-05:00", "Smith", "John", {"sid": "IL2"}), prints(SECOND_VISIT)
    )
    assert _events(custody, second.id, "IdentificationReceived") == []
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert [c["identity_id"] for c in waiting["candidates"]] == [kept.id]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(second.id)["identity_id"] == kept.id
    (hit,) = _events(custody, second.id, "IdentityMatched")
    assert hit["data"]["federal_record"] == {}
    assert [b["booking_id"] for b in hit["data"]["rap_sheet"]] == [first.id]
    assert _kept(custody, first.id).aliases == ["SMITH, JOHN"]
    assert [c for c in custody.identifications(10, 0)[1] if c["booking_id"] == first.id] == []


@pytest.mark.usefixtures("gallery")
def test_prints_an_examiner_found_to_be_no_candidate_are_kept_for_the_next_arrest(custody: Custody) -> None:
    enrolled = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints(FIRST_VISIT))
    first = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    assert custody.identifications(10, 0)[0] == 1  # awaiting the examiner: nothing kept yet
    with custody.unit() as unit:
        assert unit.session.scalars(select(FederalIdentityRow.retained_from)).all() == [None]
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    custody.reject_identification(waiting["id"], "K. Examiner", "scar on the thumb differs")
    kept = _kept(custody, first.id)
    again = custody.book(booking("C-2", "2017-08-10T10:00:00-05:00", "Roe", "J", {}), prints(SECOND_VISIT))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert waiting["booking_id"] == again.id
    assert {c["identity_id"] for c in waiting["candidates"]} == {enrolled, kept.id}


@pytest.mark.usefixtures("gallery")
def test_prints_submitted_again_are_searched_against_everyone_but_the_bookings_own(
    custody: Custody, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A booking whose first prints were kept is linked to them; prints submitted again are searched
    as before against everyone else (they would otherwise find the booking itself, or nothing at all),
    and the first prints are kept once."""
    enrolled, booked, kept, waiting = _kept_then_submitted_again(custody, monkeypatch)
    assert [c["identity_id"] for c in waiting["candidates"]] == [enrolled]
    custody.reject_identification(waiting["id"], "K. Examiner", "not the same person")
    assert _kept(custody, booked).id == kept.id


def _kept_then_submitted_again(
    custody: Custody, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, FederalIdentityRow, dict[str, Any]]:
    """(enrolled identity, booking, its kept prints, the identification its prints submitted again
    opened): a person enrolled with prints, booked with prints no one's reach the threshold (kept),
    then submitted again at the default threshold."""
    enrolled = custody.enrol(
        IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}, record={"a_number": "A000000777"}),
        prints(FIRST_VISIT),
    )
    monkeypatch.setenv("CUSTODY_MATCH_THRESHOLD", "100000")
    booked = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    kept = _kept(custody, booked.id)
    monkeypatch.setenv("CUSTODY_MATCH_THRESHOLD", "40")
    custody.submit_prints(booked.id)
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    return enrolled, booked.id, kept, waiting


@pytest.mark.usefixtures("gallery")
def test_kept_prints_of_a_booking_linked_since_to_someone_else_offer_that_person(
    custody: Custody, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a code review: a booking's kept prints stayed in the gallery as a person of their own
    once its prints, submitted again, were confirmed as someone else's; the same person's next booking
    found the kept prints first (closest to their own), and confirming them lost the record and the
    rap sheet. They now stand for the person they were merged into."""
    enrolled, first, kept, waiting = _kept_then_submitted_again(custody, monkeypatch)
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert _kept(custody, first).merged_into == enrolled

    second = custody.book(booking("C-2", "2017-08-10T10:00:00-05:00", "Poe", "Al", {}), prints(SECOND_VISIT))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert [c["identity_id"] for c in waiting["candidates"]] == [enrolled]  # once, at the kept prints' score
    assert waiting["candidates"][0]["found_as"] == kept.id
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    (hit,) = _events(custody, second.id, "IdentityMatched")
    assert hit["data"]["federal_record"] == {"a_number": "A000000777"}
    assert [b["booking_id"] for b in hit["data"]["rap_sheet"]] == [first]


@pytest.mark.usefixtures("gallery")
def test_kept_prints_are_named_after_their_booking_and_written_to_the_gallery_once(custody: Custody) -> None:
    """A transaction retried after a failure keeps the same booking's prints under the same identity,
    so the gallery holds them once (found by a code review: each attempt left another entry there)."""
    booked = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(FIRST_VISIT))
    kept = _kept(custody, booked.id)
    assert kept.id == "idn_" + booked.id.removeprefix("bkg_")
    before = len(Gallery.open(Path(os.environ["CUSTODY_GALLERY"])))
    templates, _ = biometrics.usable(prints(FIRST_VISIT))
    identity = Identity(kept.id, ("ROE, JACK",), (), {})
    assert biometrics.enrol_templates(settings.from_environment(), identity, templates) == [1, 2]
    assert len(Gallery.open(Path(os.environ["CUSTODY_GALLERY"]))) == before


@pytest.mark.usefixtures("gallery")
def test_prints_of_a_booking_identified_by_an_identifier_find_the_person_at_the_next_arrest(custody: Custody) -> None:
    """Found by a review: only a booking that found no one kept its prints, so a person the repository
    enrolled without prints and identified by FBI number was, booked again with no identifier, not
    found by the same finger, and their prints became a second identity. A linked booking's prints
    are now kept too, merged into the identity they were linked to."""
    enrolled = custody.enrol(IdentityIn(names=["DOE, John"], identifiers={"fbi": "123456AB7"}))
    first = custody.book(
        booking("C-1", "2017-08-01T10:00:00-05:00", "Doe", "John", {"fbi": "123456AB7"}), prints({2: "p2_1"})
    )
    assert custody.booking_view(first.id)["identity_id"] == enrolled
    kept = _kept(custody, first.id)
    assert kept.merged_into == enrolled

    again = custody.book(booking("C-2", "2017-08-10T10:00:00-05:00", "Roe", "Jack", {}), prints({2: "p2_2"}))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert [(c["identity_id"], c["found_as"]) for c in waiting["candidates"]] == [(enrolled, kept.id)]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(again.id)["identity_id"] == enrolled
    (hit,) = _events(custody, again.id, "IdentityMatched")
    assert [b["booking_id"] for b in hit["data"]["rap_sheet"]] == [first.id]
    with custody.unit() as unit:  # both bookings' prints stand for the enrolled person: no second identity
        standing = unit.session.execute(select(FederalIdentityRow.id, FederalIdentityRow.merged_into)).all()
        assert len(standing) == 3 and {merged or i for i, merged in standing} == {enrolled}


@pytest.mark.usefixtures("gallery")
def test_prints_of_a_booking_confirmed_by_prints_find_the_person_by_another_finger(custody: Custody) -> None:
    """Found by a review: a booking confirmed by one finger brought fingers the identity had not on
    file, and they were dropped; the next arrest printed on one of them only was searched against no
    one. They are kept now, merged into the identity confirmed."""
    first = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints({2: "p1_1"}))
    kept = _kept(custody, first.id)
    second = custody.book(booking("C-2", "2017-08-05T10:00:00-05:00", "Roe", "J", {}), prints({2: "p1_2", 3: "p2_1"}))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    assert custody.booking_view(second.id)["identity_id"] == kept.id
    assert _kept(custody, second.id).merged_into == kept.id

    third = custody.book(booking("C-3", "2017-08-10T10:00:00-05:00", "Poe", "Al", {}), prints({3: "p2_2"}))
    (waiting,) = custody.identifications(10, 0, state="awaiting_examiner")[1]
    assert waiting["booking_id"] == third.id
    assert [c["identity_id"] for c in waiting["candidates"]] == [kept.id]
    custody.confirm_identification(waiting["id"], examiner="K. Examiner")
    (hit,) = _events(custody, third.id, "IdentityMatched")
    assert [b["booking_id"] for b in hit["data"]["rap_sheet"]] == [first.id, second.id]


@pytest.mark.usefixtures("gallery")
def test_the_answer_to_prints_submitted_again_is_dated_when_it_is_given(
    custody: Custody, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the answer to a resubmission was dated at the booking's time, before the
    search it followed."""
    monkeypatch.setenv("CUSTODY_MATCH_THRESHOLD", "100000")  # no one is found, either time
    booked = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints({1: "p1_1"}))
    resubmitted = clock.advance(timedelta(hours=7))
    custody.add_prints(booked.id, prints({2: "p2_1"}))
    custody.submit_prints(booked.id)
    first, again = _events(custody, booked.id, "IdentificationResponded")
    assert first["occurred_at"] == datetime.fromisoformat("2017-08-01T15:00:00+00:00").isoformat()
    assert again["occurred_at"] == resubmitted.isoformat()
    assert again["occurred_at"] >= _events(custody, booked.id, "FingerprintsSearched")[-1]["occurred_at"]
