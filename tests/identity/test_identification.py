"""The identification check: a hit tells the federal side who is in which jail, with the record;
a re-arrest is linked to the earlier bookings of the same person."""

from __future__ import annotations

import pytest

from custody.domain.errors import NotFound
from custody.identity.commands import IdentityIn
from custody.identity.service import record_identifications
from custody.service import Custody
from custody.store.models import BookingRow, FederalIdentityRow
from tests.identity.fingerprints import COOK, booking


def test_no_hit_tells_the_federal_side_nothing(custody: Custody) -> None:
    booked = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Doe", "Jan", {"sid": "IL1"}))
    view = custody.booking_view(booked.id)
    assert view["identity_id"] is None
    received = next(e for e in view["timeline"] if e["type"] == "IdentificationReceived")
    assert received["data"] == {"hit": False, "identity_id": None}
    assert [m["type"] for m in custody.events_for("federal", 10, 0)[1]] == ["FingerprintsSubmitted"]


def test_a_re_arrest_under_another_name_carries_the_earlier_booking_as_rap_sheet(custody: Custody) -> None:
    identity_id = custody.enrol(
        IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}, record={"a_number": "A000000777"})
    )
    first = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Doe", "Jan", {"fbi": "777X"}))
    second = custody.book(booking("C-2", "2017-08-10T10:00:00-05:00", "Roe", "Jan", {"fbi": "777X", "sid": "IL9"}))
    assert custody.booking_view(second.id)["identity_id"] == identity_id
    hits = [
        e for b in (first, second) for e in custody.booking_view(b.id)["timeline"] if e["type"] == "IdentityMatched"
    ]
    assert [h["aggregate_id"] for h in hits] == [first.id, second.id]
    assert hits[0]["data"]["rap_sheet"] == []
    (earlier,) = hits[1]["data"]["rap_sheet"]
    assert earlier["booking_id"] == first.id
    assert hits[1]["data"]["person"]["last_name"] == "Roe"
    assert hits[1]["data"]["federal_record"] == {"a_number": "A000000777"}
    assert hits[1]["data"]["agency"] == COOK


def test_the_answer_reaches_a_booking_already_loaded_in_the_session(custody: Custody) -> None:
    """record_identifications writes with one UPDATE: a booking the transaction already holds as an
    object sees the identity too, and an answer for an unknown booking is refused."""
    booked = custody.book(booking("C-9", "2017-08-01T10:00:00-05:00", "Doe", "Jan", {"sid": "IL9"}))
    with custody.unit() as unit:
        loaded = unit.session.get(BookingRow, booked.id)
        assert loaded is not None and loaded.identity_id is None
        identity = FederalIdentityRow(id="idn_x", names=["DOE, Jan"], record={}, enrolled_at=unit.clock.now())
        unit.session.add(identity)
        unit.session.flush()
        record_identifications(unit, [{"booking_id": booked.id, "hit": True, "identity_id": "idn_x"}])
        assert loaded.identity_id == "idn_x"
        with pytest.raises(NotFound, match="no booking 'bkg_none'"):
            record_identifications(unit, [{"booking_id": "bkg_none", "hit": False}])
