"""The NATS JetStream transport on the real servers: a message that keeps failing fails alone and
reaches the dead-letter store instead of being dropped by JetStream; a worker goes on after an outage;
a message is applied only by the party whose subject it came on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
from fuzz._common import CORPUS
from sqlalchemy import select, text

from custody.exchange import nats
from custody.service import Custody
from custody.store.models import DeadLetterRow, InboxRow
from tests.exchange.support import delete_stream, nats_available

pytestmark = pytest.mark.parametrize("store_url", ["postgres"], indirect=True)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A stream of the test's own, removed afterwards."""
    nats_available()
    name = f"test{uuid.uuid4().hex[:8]}"
    yield name
    delete_stream(name)


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

    async def scenario() -> None:
        transport = nats.NatsTransport(custody, prefix=prefix)
        await transport.start()
        try:
            await _publish(transport, nats.subject_for("federal", prefix), {**innocent, **poison})
            for _ in range(60):  # each failed delivery comes back a second later
                await transport.consume("federal", timeout=0.5)
                if len(_dead_letters(custody)) == len(poison):
                    break
        finally:
            await transport.close()

    asyncio.run(scenario())
    assert _applied(custody) == set(innocent)
    reasons = dict(_dead_letters(custody))
    assert set(reasons) == set(poison)
    assert "failed 8 times" in reasons["msg_poison"] and "the store refuses msg_poison" in reasons["msg_poison"]
