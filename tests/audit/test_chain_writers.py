"""Two processes appending to one agency's chain on the embedded store: the second waits for the
first, whose read of the chain's head holds SQLite's write lock (the chaos run on the embedded store
once failed on the chain's unique sequence when it did not)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from custody.audit import chain as audit
from custody.domain.clock import ManualClock
from custody.domain.events import Event
from custody.service import Custody
from custody.store import db

CHAIN = "ocd-division/country:us/state:il/county:cook"


def _note(custody: Custody, subject: str) -> None:
    with custody.unit() as unit:
        unit.emit(Event("BookingNoted", "booking", subject, unit.clock.now(), {"note": subject}), CHAIN)


def test_a_writer_that_read_the_head_is_not_overtaken_by_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    clock = ManualClock(datetime(2017, 8, 16, tzinfo=UTC))
    first, second = (Custody(db.make_engine(url), clock, actor=a, inline=False) for a in ("first", "second"))
    _note(first, "bkg_before")  # the chain has a head row
    errors: list[BaseException] = []

    def other_process() -> None:
        try:
            _note(second, "bkg_second")
        except BaseException as error:  # the test reports whatever the writer met
            errors.append(error)

    with first.unit() as unit:
        audit.read_heads(unit.session, [CHAIN])  # as the first emit of a command does
        writer = threading.Thread(target=other_process)
        writer.start()
        time.sleep(0.3)  # the other writer tries now; it must wait for this transaction
        assert writer.is_alive(), "the other writer appended while this one held the head"
        unit.emit(Event("BookingNoted", "booking", "bkg_first", clock.now(), {"note": "first"}), CHAIN)
    writer.join(timeout=15)
    assert not errors, errors
    reports = {r.chain: r for r in first.verify_audit()}
    assert reports[CHAIN].ok and reports[CHAIN].entries == 3
    for custody in (first, second):
        custody.engine.dispose()
    engine.dispose()
