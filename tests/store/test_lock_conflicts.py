"""A command that PostgreSQL rolls back to break a lock cycle runs again instead of failing.

Worker processes apply batches that lock several agencies' audit chains; a command of the API or of
the chaos driver can close a cycle with them. PostgreSQL then aborts one transaction (40P01). The
cycle is made for real here: another session holds the agency's chain head and then waits for the
booking number the command has just written."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from custody.booking.model import CUSTODY
from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.store import db
from custody.store.models import AuditChainRow, BookingRow
from tests.conftest import _drop_schema, _postgres_schema_url
from tests.store.test_atomicity import COOK, _booking


@pytest.mark.postgres
def test_a_command_chosen_as_deadlock_victim_runs_again_and_is_stored_once() -> None:
    url = _postgres_schema_url()
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        custody = Custody(engine, ManualClock(datetime.fromisoformat("2017-08-16T08:00:00-05:00")), actor="test")
        custody.inline = False
        custody.book(_booking("C-1"))  # the chain's head row now exists
        other = engine.connect()
        other.begin()
        other.execute(select(AuditChainRow.chain).where(AuditChainRow.chain == COOK).with_for_update())
        outcome: dict[str, object] = {}

        def book() -> None:
            try:
                outcome["booking"] = custody.book(_booking("C-2")).id
            except Exception as error:  # reported below, with its type
                outcome["error"] = error

        command = threading.Thread(target=book)
        command.start()
        time.sleep(1.0)  # the command has written C-2 and now waits for the chain head held above
        other.execute(text("SET deadlock_timeout = '10s'"))  # so the command, waiting first, is the victim
        row = {
            "id": "bkg_rival",
            "booking_number": "C-2",
            "booking_agency": COOK,
            "agency": COOK,
            "agency_kind": "county",
            "person": {},
            "charges": [],
            "convictions": [],
            "booked_at": datetime.fromisoformat("2017-08-16T01:00:00-05:00"),
            "recorded_at": datetime.fromisoformat("2017-08-16T01:00:00-05:00"),
            "state": CUSTODY.initial.value,
        }
        rival = threading.Thread(target=lambda: other.execute(BookingRow.__table__.insert(), row))
        rival.start()  # waits for the command's uncommitted C-2: a cycle, which PostgreSQL breaks
        rival.join(timeout=30)
        assert not rival.is_alive(), "the rival's insert should go through once the command is rolled back"
        other.rollback()  # the rival gives up its booking and the chain head
        other.close()
        command.join(timeout=30)
        assert "error" not in outcome, repr(outcome.get("error"))
        with engine.connect() as conn:
            numbers = conn.scalars(select(BookingRow.booking_number).order_by(BookingRow.booking_number)).all()
            assert numbers == ["C-1", "C-2"]
            assert conn.scalar(select(func.count()).select_from(BookingRow).where(BookingRow.id == outcome["booking"]))
        assert all(report.ok for report in custody.verify_audit())
    finally:
        engine.dispose()
        _drop_schema(url)
