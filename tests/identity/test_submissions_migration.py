"""Migration 0003 copies the submissions the federal side already held in its inbox into the
indexed submissions table, linked to the identity their booking was matched with, so a store
upgraded in place keeps its rap sheets."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from custody.store import db
from custody.store.models import FederalSubmissionIdentifierRow, FederalSubmissionRow
from custody.store.types import UTCDateTime
from tests.store.support import inbox_before_0006

COOK = "ocd-division/country:us/state:il/county:cook"
NOW = datetime(2017, 8, 16, 12, tzinfo=UTC)


def _submission(booking_id: str, identifiers: dict[str, str]) -> dict[str, object]:
    return {
        "booking_id": booking_id,
        "agency": COOK,
        "booking_number": booking_id,
        "booked_at": "2017-08-01T10:00:00-05:00",
        "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01", "identifiers": identifiers},
        "charges": [],
        "convictions": [],
        "prints": [],
    }


def test_submissions_in_the_inbox_are_carried_into_the_indexed_table(store_url: str) -> None:
    engine = db.make_engine(store_url)
    command.upgrade(db.alembic_config(engine), "0002")
    when = UTCDateTime()
    inbox = inbox_before_0006()
    identities = sa.table(
        "federal_identities",
        sa.column("id"),
        sa.column("names", sa.JSON()),
        sa.column("record", sa.JSON()),
        sa.column("enrolled_at", when),
    )
    bookings = sa.table(
        "bookings",
        *(sa.column(c) for c in ("id", "booking_number", "booking_agency", "agency", "agency_kind", "state")),
        *(sa.column(c, sa.JSON()) for c in ("person", "charges", "convictions")),
        sa.column("booked_at", when),
        sa.column("recorded_at", when),
        sa.column("identity_id"),
    )
    with engine.begin() as connection:
        connection.execute(identities.insert().values(id="idn_1", names=["DOE, Jan"], record={}, enrolled_at=NOW))
        for booking_id, identity_id in (("bkg_1", "idn_1"), ("bkg_2", None)):
            connection.execute(
                bookings.insert().values(
                    id=booking_id,
                    booking_number=booking_id,
                    booking_agency=COOK,
                    agency=COOK,
                    agency_kind="jail",
                    state="in_custody",
                    person={},
                    charges=[],
                    convictions=[],
                    booked_at=NOW,
                    recorded_at=NOW,
                    identity_id=identity_id,
                )
            )
        for booking_id, identifiers in (("bkg_1", {"fbi": "777X", "sid": "IL1"}), ("bkg_2", {})):
            connection.execute(
                inbox.insert().values(
                    party="federal",
                    message_id=f"msg_{booking_id}",
                    type="gov.custody.booking.fingerprints_submitted.v1",
                    subject=booking_id,
                    data=_submission(booking_id, identifiers),
                    applied_at=NOW,
                )
            )
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        rows = {r.booking_id: r for r in session.scalars(sa.select(FederalSubmissionRow))}
        assert rows["bkg_1"].identity_id == "idn_1" and rows["bkg_2"].identity_id is None
        assert rows["bkg_1"].booked_at == datetime(2017, 8, 1, 15, tzinfo=UTC)
        assert rows["bkg_1"].data == _submission("bkg_1", {"fbi": "777X", "sid": "IL1"})
        pairs = {(r.booking_id, r.id_type, r.value) for r in session.scalars(sa.select(FederalSubmissionIdentifierRow))}
        assert pairs == {("bkg_1", "fbi", "777X"), ("bkg_1", "sid", "IL1")}
    engine.dispose()
