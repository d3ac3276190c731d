"""An ``Idempotency-Key`` POST on a server that leaves the messages to `custody worker`: the change,
the answer read back, the stored answer and its access-log entry are one transaction, on SQLite and
PostgreSQL. Counted with a commit listener, checked row by row, and broken on purpose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, insert, select
from sqlalchemy.exc import OperationalError

from custody.access.tokens import Issuer
from custody.api import idempotency
from custody.api.app import create_app
from custody.audit.access import CHAIN_PREFIX
from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict
from custody.service import Custody
from custody.store import db
from custody.store.models import AuditEntryRow, BookingRow, IdempotencyKeyRow
from custody.store.unit import Unit
from tests.access.support import bearer
from tests.api.test_api import BOOKING, _request


@pytest.fixture
def workers_mode(store_url: str, clock: ManualClock) -> Iterator[Custody]:
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    yield Custody(engine, clock, actor="test", inline=False)
    engine.dispose()


@pytest.fixture
def api(workers_mode: Custody, issuer: Issuer) -> Iterator[TestClient]:
    # no reading of the signed-out tokens in the background: these tests count connections
    with TestClient(create_app(workers_mode, tick_seconds=None, issuer=issuer, revocations_seconds=None)) as client:
        yield client


def _count(service: Custody, *where: Any, table: Any = BookingRow) -> int:
    with service.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _access_entries(service: Custody) -> int:
    return _count(service, AuditEntryRow.chain.like(f"{CHAIN_PREFIX}%"), table=AuditEntryRow)


def test_a_booking_with_a_key_commits_once_with_its_answer_and_access_entry(
    api: TestClient, workers_mode: Custody, issuer: Issuer
) -> None:
    commits: list[int] = []
    checkouts: list[int] = []
    event.listen(workers_mode.engine, "commit", lambda _: commits.append(1))
    event.listen(workers_mode.engine, "checkout", lambda *_: checkouts.append(1))
    headers = {**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "one-transaction-1"}
    first = api.post("/bookings", json=BOOKING, headers=headers)
    assert first.status_code == 201, first.text
    assert len(commits) == 1, "the booking, its answer and its access entry commit together"
    assert len(checkouts) == 1, "the key is looked up on the connection that stores it"
    assert first.json()["booking_number"] == BOOKING["booking_number"]  # read back inside the transaction
    assert _count(workers_mode) == 1
    assert _count(workers_mode, table=IdempotencyKeyRow) == 1
    assert _access_entries(workers_mode) == 1
    replay = api.post("/bookings", json=BOOKING, headers=headers)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert _count(workers_mode) == 1


def test_the_answer_read_back_inside_the_transaction_shows_what_a_later_read_shows(
    api: TestClient, issuer: Issuer
) -> None:
    """The answer is read before the unit writes its events: its timeline must still list them, as
    the booking read afterwards does (it was empty before)."""
    jail = bearer(issuer, "jail_officer@cook")
    answer = api.post("/bookings", json=BOOKING, headers={**jail, "Idempotency-Key": "read-back-1"}).json()
    assert [e["type"] for e in answer["timeline"]][:1] == ["BookingRecorded"]
    assert api.get(f"/bookings/{answer['id']}", headers=jail).json() == answer


def test_a_keyed_post_reads_and_locks_the_audit_heads_once_for_its_change_and_its_access_entry(
    api: TestClient, workers_mode: Custody, issuer: Issuer
) -> None:
    """The booking's entries (agency chain) and the access entry (reader's chain) are sealed together:
    one locked read of the heads, not one per chain (issue 9: that lock bounds the load)."""
    statements: list[str] = []
    event.listen(
        workers_mode.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(" ".join(sql.split()))
    )
    headers = {**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "heads-once-1"}
    assert api.post("/bookings", json=BOOKING, headers=headers).status_code == 201
    assert sum("FROM audit_chains" in s for s in statements) == 1
    chains = {c for (c,) in _rows(workers_mode, AuditEntryRow.chain)}
    assert len(chains) == 2 and any(c.startswith(CHAIN_PREFIX) for c in chains)


def test_a_request_is_checked_against_its_booking_on_the_connection_that_issues_it(
    api: TestClient, workers_mode: Custody, issuer: Issuer
) -> None:
    """The federal officer's right to the booking is read in the POST's own transaction (off the
    event loop, where it blocked every other connection of the server), and checked before a stored
    answer is given again: an officer of another area gets a 403, not the answer."""
    booking = api.post("/bookings", json=BOOKING, headers=bearer(issuer, "jail_officer@cook")).json()
    checkouts: list[int] = []
    event.listen(workers_mode.engine, "checkout", lambda *_: checkouts.append(1))
    headers = {**bearer(issuer, "federal_officer@il"), "Idempotency-Key": "checked-1"}
    issued = api.post("/federal/requests", json=_request(booking["id"]), headers=headers)
    assert issued.status_code == 201, issued.text
    assert len(checkouts) == 1
    assert api.post("/federal/requests", json=_request(booking["id"]), headers=headers).json() == issued.json()
    elsewhere = {**bearer(issuer, "federal_officer@fl"), "Idempotency-Key": "checked-1"}
    refused = api.post("/federal/requests", json=_request(booking["id"]), headers=elsewhere)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


def _rows(service: Custody, *columns: Any) -> list[Any]:
    with service.engine.connect() as connection:
        return list(connection.execute(select(*columns)))


def test_a_refused_change_stores_no_answer_and_still_logs_the_access(
    api: TestClient, workers_mode: Custody, issuer: Issuer
) -> None:
    headers = {**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "refused-1"}
    future = {**BOOKING, "booked_at": "2030-01-01T00:00:00Z"}
    refused = api.post("/bookings", json=future, headers=headers)
    assert refused.status_code == 422 and "future" in refused.json()["detail"]
    assert _count(workers_mode) == 0 and _count(workers_mode, table=IdempotencyKeyRow) == 0
    assert _access_entries(workers_mode) == 1  # written by the middleware, as answered (422)
    fixed = api.post("/bookings", json=BOOKING, headers={**headers, "Idempotency-Key": "refused-2"})
    assert fixed.status_code == 201


def test_when_a_concurrent_request_stored_the_key_first_its_answer_stands_and_nothing_of_ours_is_kept(
    workers_mode: Custody, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other request commits between our look-up (in our transaction) and our commit: our whole
    transaction (the change included) rolls back on the key, and the caller gets the stored answer."""
    body = b'{"same": "body"}'
    stored_first = {"id": "theirs"}
    real_stored = idempotency._stored
    looked: list[int] = []

    def stored_meanwhile(connection: Connection, full_key: str, key: str, digest: str) -> tuple[int, Any] | None:
        looked.append(1)
        if len(looked) == 1:  # our first look finds nothing; then the other request commits
            with workers_mode.engine.begin() as theirs:
                theirs.execute(
                    insert(IdempotencyKeyRow),
                    {
                        "key": full_key,
                        "request_hash": digest,
                        "status_code": 201,
                        "response": stored_first,
                        "created_at": workers_mode.clock.now(),
                    },
                )
            return None
        return real_stored(connection, full_key, key, digest)

    monkeypatch.setattr(idempotency, "_stored", stored_meanwhile)
    booking = {**BOOKING, "booking_number": "RACE-1"}

    def work() -> dict[str, Any]:
        return {"id": workers_mode.book(BookingIn.model_validate(booking)).id}

    status, answer = idempotency.run(workers_mode, "race-1", "/bookings", body, 201, work)
    assert (status, answer) == (201, stored_first)
    assert _count(workers_mode, BookingRow.booking_number == "RACE-1") == 0, "our booking rolled back with the key"


def test_a_failing_access_entry_takes_the_change_back_with_it(workers_mode: Custody) -> None:
    def failing(unit: Unit, answer: Any) -> None:
        raise RuntimeError("the access chain could not be written")

    def work() -> dict[str, Any]:
        return {"id": workers_mode.book(BookingIn.model_validate({**BOOKING, "booking_number": "ENTRY-1"})).id}

    with pytest.raises(RuntimeError, match="access chain"):
        idempotency.run(workers_mode, "entry-1", "/bookings", b"{}", 201, work, failing)
    assert _count(workers_mode, BookingRow.booking_number == "ENTRY-1") == 0
    assert _count(workers_mode, table=IdempotencyKeyRow) == 0


def test_two_requests_sent_at_once_with_one_key_do_the_work_once_inline(custody: Custody) -> None:
    """Found by a review: on a server that applies messages itself (the default), the key was
    looked up, the work done and the answer stored in separate transactions, so two requests sent
    together with one key both did the work (two holds, two messages to the federal side). The key
    is claimed first now: the other request is told to come back for the answer, then gets it."""
    assert custody.inline
    started, release = threading.Event(), threading.Event()
    done: list[int] = []

    def work() -> dict[str, Any]:
        done.append(1)
        started.set()
        assert release.wait(10)
        return {"id": "the-answer"}

    first: list[tuple[int, Any]] = []
    worker = threading.Thread(
        target=lambda: first.append(idempotency.run(custody, "k-1", "/x", b"{}", 200, work)), daemon=True
    )
    worker.start()
    assert started.wait(10)
    with pytest.raises(Conflict, match="is being carried out; send it again in a moment"):
        idempotency.run(custody, "k-1", "/x", b"{}", 200, work)
    with pytest.raises(Conflict, match="different body"):
        idempotency.run(custody, "k-1", "/x", b'{"other": 1}', 200, work)
    release.set()
    worker.join(10)
    assert first == [(200, {"id": "the-answer"})]
    assert idempotency.run(custody, "k-1", "/x", b"{}", 200, work) == (200, {"id": "the-answer"})
    assert done == [1]


def test_a_refused_request_gives_its_key_back_inline(custody: Custody) -> None:
    """A request whose work is refused leaves no claim behind: sent again, it is carried out."""

    def refused() -> dict[str, Any]:
        raise Conflict("not now")

    with pytest.raises(Conflict, match="not now"):
        idempotency.run(custody, "k-2", "/x", b"{}", 200, refused)
    assert idempotency.run(custody, "k-2", "/x", b"{}", 200, lambda: {"ok": True}) == (200, {"ok": True})


def test_the_same_request_laid_out_differently_is_the_same_request(custody: Custody) -> None:
    """Found by a review: the body was compared byte for byte, so a retry whose JSON differed only in
    spacing or key order was refused as "a different body"."""
    done: list[int] = []

    def work() -> dict[str, Any]:
        done.append(1)
        return {"id": "x"}

    first = idempotency.run(custody, "k-3", "/x", b'{"a": 1, "b": [1, 2]}', 201, work)
    again = idempotency.run(custody, "k-3", "/x", b'{"b":[1,2],"a":1}', 201, work)
    assert first == again == (201, {"id": "x"}) and done == [1]
    with pytest.raises(Conflict, match="different body"):
        idempotency.run(custody, "k-3", "/x", b'{"a": 2, "b": [1, 2]}', 201, work)


def test_a_failure_after_the_change_committed_keeps_the_key(custody: Custody, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a code review: the booking committed, applying its messages then failed, and the key
    was given back, so a retry with it booked the person a second time. The key stays claimed: the
    retry is told to check whether the first took effect."""
    real = Custody.deliver
    failures = [OperationalError("drain", {}, Exception("database is locked"))]

    def flaky(self: Custody, parties: Any = None) -> int:
        if failures:
            raise failures.pop()
        return real(self, parties)

    monkeypatch.setattr(Custody, "deliver", flaky)
    done: list[int] = []

    def work() -> dict[str, Any]:
        done.append(1)
        return {"id": custody.book(BookingIn.model_validate({**BOOKING, "booking_number": f"K-{len(done)}"})).id}

    with pytest.raises(OperationalError):
        idempotency.run(custody, "k-4", "/bookings", b"{}", 201, work)
    with pytest.raises(Conflict, match="check whether it took effect"):
        idempotency.run(custody, "k-4", "/bookings", b"{}", 201, work)
    assert done == [1]
    with custody.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(BookingRow)) == 1
