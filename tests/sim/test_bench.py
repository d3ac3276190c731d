"""The benchmark's wait for worker processes returns only once every message sent is applied."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from custody.domain.clock import ManualClock
from custody.exchange import worker
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.sim.bench import wait_for_workers
from custody.store.clock import StoredClock
from custody.store.models import InboxRow, MessageRow
from tests.identity.fingerprints import booking


def test_the_wait_is_not_fooled_by_a_worker_answering_while_it_counts(custody: Custody, clock: ManualClock) -> None:
    """A worker applies the submission, and writes the answer, between the moment the messages are
    counted and the moment the applied ones are: counted one statement after the other, the wait saw
    1 sent and 1 applied and returned with the answer still waiting (seen in CI: 24 of 40 applied)."""
    custody.inline = False
    custody.book(booking("WAIT-1", "2017-08-16T01:00:00-05:00", "Wait", "Pat", {}))
    parties = ["federal", f"local:{seed_scenarios.COOK}"]
    stepping: list[bool] = []  # the worker's own statements read the inbox too: no step inside a step

    def a_worker_steps_in(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        # Just before the applied messages are counted, the next party's worker applies its message.
        if "FROM inbox" in statement and parties and not stepping:
            stepping.append(True)
            try:
                worker.process(custody, parties.pop(0), "test-worker")
            finally:
                stepping.clear()

    event.listen(custody.engine, "before_cursor_execute", a_worker_steps_in)
    try:
        deliver = wait_for_workers(custody, clock, StoredClock(custody.engine))
        assert deliver() == 2
    finally:
        event.remove(custody.engine, "before_cursor_execute", a_worker_steps_in)
    with custody.unit() as unit:
        sent = unit.session.scalar(select(func.count()).select_from(MessageRow))
        applied = unit.session.scalar(select(func.count()).select_from(InboxRow))
    assert sent == applied == 2
