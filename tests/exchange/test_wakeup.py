"""A worker waiting for work wakes when a message is committed to its store (PostgreSQL), not when
its poll comes round; a rolled-back message or another store's does not wake it; SQLite polls."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from custody.booking.commands import BookingIn
from custody.exchange import runner
from custody.exchange.wakeup import Wakeup
from custody.service import Custody
from custody.store import db
from custody.store.models import InboxRow, MessageRow
from tests.conftest import _drop_schema, _postgres_schema_url
from tests.exchange.support import delete_stream, nats_available
from tests.identity.fingerprints import booking

# The store fixture on PostgreSQL only (it skips, or fails under CI, when the server is absent).
POSTGRES_STORE = pytest.mark.parametrize(
    "store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _booking(number: str) -> BookingIn:
    return booking(number, "2017-08-16T01:00:00-05:00", "Wake", "Pat", {})


@pytest.fixture
def on_postgres(custody: Custody) -> Custody:
    custody.inline = False  # messages wait for workers, as in a deployment with `custody worker`
    return custody


@pytest.fixture
def other_store() -> Iterator[Custody]:
    url = _postgres_schema_url()
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield Custody(engine, inline=False)
    engine.dispose()
    _drop_schema(url)


@POSTGRES_STORE
def test_a_committed_message_wakes_the_waiting_worker_and_nothing_else_does(
    on_postgres: Custody, other_store: Custody
) -> None:
    wakeup = Wakeup(on_postgres.engine)
    try:
        assert wakeup.listening
        assert wakeup.wait(0.2) is False  # nothing written yet: the wait runs out
        on_postgres.book(_booking("W-1"))  # committed before the wait: its notification waits for it
        assert wakeup.wait(10) is True
        assert wakeup.wait(0.2) is False  # that commit's notifications were all taken at once

        with pytest.raises(RuntimeError), on_postgres.batch():
            on_postgres.book(_booking("W-2"))
            raise RuntimeError("the batch fails: its message is rolled back")
        assert wakeup.wait(0.3) is False

        other_store.book(_booking("W-3"))  # same database, another store (schema)
        assert wakeup.wait(0.3) is False
    finally:
        wakeup.close()


@POSTGRES_STORE
def test_a_wait_cut_off_from_the_server_falls_back_to_polling_and_listens_again(on_postgres: Custody) -> None:
    wakeup = Wakeup(on_postgres.engine)
    try:
        assert wakeup._listening is not None
        wakeup._listening.connection.driver_connection.close()  # as if the server dropped it
        assert wakeup.wait(0.1) is False and not wakeup.listening
        on_postgres.book(_booking("W-4"))
        wakeup.listen()
        assert wakeup.listening
        on_postgres.book(_booking("W-5"))
        assert wakeup.wait(10) is True
    finally:
        wakeup.close()


def _all_applied(custody: Custody) -> bool:
    with custody.unit() as unit:
        sent = unit.session.scalar(select(func.count()).select_from(MessageRow)) or 0
        applied = unit.session.scalar(select(func.count()).select_from(InboxRow)) or 0
    return sent >= 2 and applied >= sent


def _run_workers(custody: Custody, transport: str, **options: Any) -> None:
    """A federal and a local worker with a 60 s poll: a booking's submission (federal) and its answer
    (local) are applied well within the test's patience only because each worker is woken by the
    message before it; told to stop, both stop within seconds."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=runner.run,
            args=(custody, party, transport),
            kwargs={"stop": stop, "poll": 60.0, **options},
        )
        for party in ("federal", "local:*")
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)  # both have looked at their empty queues and wait
        custody.book(_booking(f"W-{transport}"))
        deadline = time.monotonic() + 20
        while not _all_applied(custody) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _all_applied(custody)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


@POSTGRES_STORE
def test_workers_with_a_long_poll_apply_a_booking_s_messages_at_once(on_postgres: Custody) -> None:
    _run_workers(on_postgres, "inproc")


@POSTGRES_STORE
def test_over_nats_the_relay_is_woken_and_a_stopped_worker_exits_at_once(on_postgres: Custody) -> None:
    """The relay publishes the outbox when woken, the consumers' fetch returns when a message comes;
    a stopped NATS worker leaves its pull subscriptions and exits (it used to wait 30 s on them)."""
    nats_available()
    on_postgres.transport = "nats"
    prefix = f"test{uuid.uuid4().hex[:8]}"
    try:
        _run_workers(on_postgres, "nats", nats_prefix=prefix)
    finally:
        delete_stream(prefix)


def test_on_sqlite_a_worker_polls(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/w.db")
    wakeup = Wakeup(engine)
    assert not wakeup.listening and wakeup.wait(0.05) is False
    engine.dispose()


def test_the_timers_run_once_a_period_however_busy_the_worker() -> None:
    every = runner.Every(3600)
    assert [every.due() for _ in range(5)] == [True, False, False, False, False]
    assert runner.Every(0).due() and runner.Every(0).due()


def test_with_the_server_down_a_worker_polls_and_asks_again_only_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = db.make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    attempts: list[float] = []
    real_connect = engine.connect

    def connect() -> Any:
        attempts.append(time.monotonic())
        return real_connect()

    monkeypatch.setattr(engine, "connect", connect)
    wakeup = Wakeup(engine)
    assert not wakeup.listening
    assert [wakeup.wait(0.01) for _ in range(5)] == [False] * 5
    assert len(attempts) == 1  # not once a wait: the next attempt waits RETRY seconds
    monkeypatch.setattr(wakeup, "_next_attempt", 0.0)  # as if RETRY seconds had passed
    assert wakeup.wait(0.01) is False and len(attempts) == 2
    engine.dispose()
