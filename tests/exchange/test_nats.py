"""The NATS JetStream transport on the real servers: a message that keeps failing fails alone and
reaches the dead-letter store instead of being dropped by JetStream; a worker goes on after an outage;
a message is applied only by the party whose subject it came on."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fuzz._common import CORPUS
from sqlalchemy import select, text

from custody.exchange import nats, runner
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeadLetterRow, InboxRow
from tests.conftest import skip_or_fail
from tests.exchange.support import delete_stream, nats_available

pytestmark = pytest.mark.parametrize("store_url", ["postgres"], indirect=True)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A stream of the test's own, removed afterwards."""
    nats_available()
    name = f"test{uuid.uuid4().hex[:8]}"
    yield name
    delete_stream(name)


class OwnNats:
    """A NATS JetStream server of the test's own, on a free port, to stop and start again: the
    shared one on 4222 is not the test's to stop."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("nats-server") or shutil.which("/usr/sbin/nats-server")
        if binary is None:
            skip_or_fail("nats-server is not installed, and this test runs one of its own")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [str(binary), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(folder)]
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNats]:
    server = OwnNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


def _recorded(message_id: str, **attributes: str) -> bytes:
    """A RequestResponded envelope for the federal party, which only records it (an inbox row)."""
    envelope = json.loads((CORPUS / "worker_apply" / "request.responded.v1.json").read_text())
    envelope.update(id=message_id, **attributes)
    return json.dumps(envelope).encode()


async def _publish(transport: nats.NatsTransport, subject: str, envelopes: dict[str, bytes]) -> None:
    for message_id, raw in envelopes.items():
        await transport.js.publish(subject, raw, headers={"Nats-Msg-Id": message_id})


def _dead_letters(custody: Custody) -> list[tuple[str | None, str]]:
    with custody.unit() as unit:
        rows = unit.session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id))
        return [(row.message_id, row.reason) for row in rows]


def _applied(custody: Custody) -> set[str]:
    with custody.unit() as unit:
        return set(unit.session.scalars(select(InboxRow.message_id)))


def _consumed_until_dead_lettered(
    custody: Custody, prefix: str, subject: str, party: str, envelopes: dict[str, bytes], dead: int, rounds: int
) -> dict[str | None, str]:
    """Publish ``envelopes`` on ``subject``, let ``party``'s worker consume them until ``dead`` are
    dead-lettered (or ``rounds`` pulls have passed), and return the dead letters' reasons."""

    async def scenario() -> None:
        transport = nats.NatsTransport(custody, prefix=prefix)
        await transport.start()
        try:
            await _publish(transport, subject, envelopes)
            for _ in range(rounds):
                await transport.consume(party, timeout=0.5)
                if len(_dead_letters(custody)) == dead:
                    break
        finally:
            await transport.close()

    asyncio.run(scenario())
    return dict(_dead_letters(custody))


def test_a_message_the_store_keeps_refusing_fails_alone_and_is_dead_lettered_on_its_last_delivery(
    custody: Custody, prefix: str
) -> None:
    """Found by a review: NATS messages went in with no count of attempts, so one that kept failing
    was dropped by JetStream after its eighth delivery with no dead letter, and took the other
    messages of its batch with it each time."""
    custody.inline, custody.transport = False, "nats"
    with custody.unit() as unit:  # PostgreSQL refuses this one message's inbox row, whatever is tried
        unit.session.execute(
            text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.message_id = 'msg_poison' THEN RAISE EXCEPTION 'the store refuses msg_poison'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        unit.session.execute(
            text("CREATE TRIGGER refuse_poison BEFORE INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION refuse_poison()")
        )
    innocent = {f"msg_innocent_{i}": _recorded(f"msg_innocent_{i}") for i in range(3)}
    # and an envelope PostgreSQL cannot keep as it is: a toparty longer than the party columns
    poison = {"msg_poison": _recorded("msg_poison"), "msg_long": _recorded("msg_long", toparty="federal" + "x" * 293)}

    subject = nats.subject_for("federal", prefix)
    # each failed delivery comes back a second later: up to 60 pulls
    reasons = _consumed_until_dead_lettered(
        custody, prefix, subject, "federal", {**innocent, **poison}, len(poison), 60
    )
    assert _applied(custody) == set(innocent)
    assert set(reasons) == set(poison)
    assert "failed 8 times" in reasons["msg_poison"] and "the store refuses msg_poison" in reasons["msg_poison"]


def _publish_to(url: str, subject: str, envelopes: dict[str, bytes]) -> None:
    async def publish() -> None:
        client = await nats.nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            for message_id, raw in envelopes.items():
                await client.jetstream().publish(subject, raw, headers={"Nats-Msg-Id": message_id})
        finally:
            await client.close()

    asyncio.run(publish())


def _until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_goes_on_after_a_nats_outage_and_says_so_once(
    custody: Custody, own_nats: OwnNats, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a review: the connection gave up after three attempts to reconnect, then the worker
    logged a traceback five times a second and applied nothing until restarted, and stopping it
    failed "unexpectedly"."""
    caplog.set_level(logging.INFO, logger="custody")
    custody.inline, custody.transport = False, "nats"
    stop, failures = threading.Event(), []

    def work() -> None:
        try:
            runner.run(custody, "federal", "nats", own_nats.url, stop, 0.2, "outage")
        except BaseException as exc:  # whatever escapes the worker is the finding
            failures.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    assert _until(lambda: "worker serving federal" in caplog.text, 10)
    own_nats.stop()
    time.sleep(10)  # longer than the three attempts to reconnect, two seconds apart, it made
    own_nats.start()
    _publish_to(own_nats.url, nats.subject_for("federal", "outage"), {"msg_after": _recorded("msg_after")})
    applied = _until(lambda: _applied(custody) == {"msg_after"}, 15)
    own_nats.stop()  # and the worker is stopped during a second outage
    time.sleep(1)
    stop.set()
    worker.join(30)
    assert applied and not worker.is_alive() and failures == []
    logged = [r for r in caplog.records if r.name.startswith("custody")]
    assert [r for r in logged if r.exc_info] == [], "an outage is no fault of custody's: no traceback"
    assert sum("lost NATS" in r.getMessage() for r in logged) == 2, caplog.text


def test_a_message_is_applied_only_by_the_party_whose_subject_it_came_on(custody: Custody, prefix: str) -> None:
    """Found by a review: the worker took the addressee from the envelope, so an envelope for the
    federal party published on a local agency's subject was applied by the local agency's worker."""
    custody.inline, custody.transport = False, "nats"
    cook, miami = f"local:{seed_scenarios.COOK}", f"local:{seed_scenarios.MIAMI_DADE}"
    misaddressed = {
        "msg_for_federal": _recorded("msg_for_federal", toparty="federal"),
        "msg_for_miami": _recorded("msg_for_miami", toparty=miami),
    }

    subject = nats.subject_for(cook, prefix)
    reasons = _consumed_until_dead_lettered(custody, prefix, subject, "local:*", misaddressed, len(misaddressed), 10)
    assert _applied(custody) == set()
    assert set(reasons) == set(misaddressed)
    on_cooks_subject = "local:" + nats.subject_for(cook, prefix).rsplit(".", 1)[1]
    assert reasons["msg_for_federal"] == f"addressed to federal, not {on_cooks_subject}"
    assert reasons["msg_for_miami"] == f"addressed to {miami}, not {on_cooks_subject}"
