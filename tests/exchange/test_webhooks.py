"""Outside subscribers get each message signed, retried with backoff until they accept it, and every
attempt is kept."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select

from custody.domain.errors import InvalidInput
from custody.exchange import runner
from custody.exchange.nats import DEFAULT_URL
from custody.exchange.webhooks import MAX_ATTEMPTS, SIGNATURE_HEADER, WEBHOOK_CHAIN, deliver_due, subscribe
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import AuditEntryRow, MessageRow, WebhookAttemptRow

SECRET = "a-shared-secret-for-tests"


class Subscriber(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str]]] = []
    fail_first = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Subscriber.fail_first:
            Subscriber.fail_first = False
            self.send_response(503)
        else:
            Subscriber.received.append((body, self.headers[SIGNATURE_HEADER]))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    Subscriber.received, Subscriber.fail_first = [], True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_a_subscriber_gets_signed_messages_retried_until_accepted(custody: Custody, endpoint: str) -> None:
    subscribe(custody, endpoint, SECRET, ["gov.custody.request.responded.v1"])
    seed_scenarios.chicago_then_cook(custody)
    now = custody.clock.now()
    assert deliver_due(custody, now=now) == 1  # refused with 503
    assert deliver_due(custody, now=now) == 0  # not due again before its backoff
    assert deliver_due(custody, now=now + timedelta(seconds=3)) == 1
    ((body, signature),) = Subscriber.received
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["type"] == "gov.custody.request.responded.v1"
    with custody.unit() as unit:
        attempts = [
            (a.attempt, a.status_code, a.delivered)
            for a in unit.session.scalars(select(WebhookAttemptRow).order_by(WebhookAttemptRow.attempt))
        ]
    assert attempts == [(1, 503, False), (2, 204, True)]
    assert deliver_due(custody, now=now + timedelta(hours=1)) == 0, "a delivered message is not sent again"
    # Found by a review: subscriptions and deliveries of people's records to outside parties left no
    # audit entry. Each is on the chain of webhooks, and the secret is in none of them.
    with custody.unit() as unit:
        audited = [
            (e.action, e.data.get("status"))
            for e in unit.session.scalars(
                select(AuditEntryRow).where(AuditEntryRow.chain == WEBHOOK_CHAIN).order_by(AuditEntryRow.seq)
            )
        ]
        texts = [str(e.data) for e in unit.session.scalars(select(AuditEntryRow))]
    assert audited == [("WebhookSubscribed", None), ("WebhookDeliveryFailed", 503), ("WebhookDelivered", 204)]
    assert not any(SECRET in text for text in texts)
    assert all(report.ok for report in custody.verify_audit())


@pytest.mark.parametrize(
    ("url", "secret", "types", "message"),
    [
        ("ftp://x", SECRET, [], "not an http"),
        ("http://x", "short", [], "16 to 64 characters, not 5"),
        ("http://x", "s" * 65, [], "16 to 64 characters, not 65"),  # sealed, it would not fit the store
        ("http://x", SECRET, ["gov.custody.nope.v1"], "unknown message types"),
    ],
)
def test_bad_subscriptions_are_refused(custody: Custody, url: str, secret: str, types: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        subscribe(custody, url, secret, types)


class Garbling(socketserver.BaseRequestHandler):
    """A subscriber whose server answers with no HTTP status line: http.client's BadStatusLine,
    which is not an OSError."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"nonsense\r\n\r\n")


@pytest.fixture
def garbling() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Garbling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _attempt_rows(custody: Custody) -> list[WebhookAttemptRow]:
    with custody.unit() as unit:
        return list(unit.session.scalars(select(WebhookAttemptRow).order_by(WebhookAttemptRow.id)))


def _attempts(custody: Custody) -> list[tuple[int | None, str | None, bool]]:
    return [(a.status_code, a.error, a.delivered) for a in _attempt_rows(custody)]


def test_a_subscriber_answering_garbage_is_a_failed_attempt_and_the_others_are_served(
    custody: Custody, endpoint: str, garbling: str
) -> None:
    """Found by a review: http.client's BadStatusLine escaped every round, so no attempt was recorded
    and a healthy subscriber got nothing either."""
    Subscriber.fail_first = False
    subscribe(custody, garbling, SECRET, ["gov.custody.request.responded.v1"])
    subscribe(custody, endpoint, SECRET, ["gov.custody.request.responded.v1"])
    seed_scenarios.chicago_then_cook(custody)
    assert deliver_due(custody) == 2
    assert len(Subscriber.received) == 1
    ((status, error, _),) = [attempt for attempt in _attempts(custody) if not attempt[2]]
    assert status is None and error is not None and error.startswith("BadStatusLine"), error


def test_messages_that_exhausted_their_attempts_do_not_hold_up_the_next_ones(custody: Custody, endpoint: str) -> None:
    """Found by a review: each round took the first 100 messages not yet delivered, those with no
    attempts left among them, so after 100 such messages nothing was delivered again."""
    Subscriber.fail_first = False
    subscription = subscribe(custody, endpoint, SECRET, ["gov.custody.request.responded.v1"])
    now = custody.clock.now()
    with custody.unit() as unit:
        for n in range(101):
            message_id = f"msg_{n:03}"
            unit.session.add(
                MessageRow(
                    id=message_id,
                    type="gov.custody.request.responded.v1",
                    to_party="federal",
                    subject="req_x",
                    envelope="{}",
                    created_at=now,
                )
            )
            for attempt in range(1, MAX_ATTEMPTS + 1) if n < 100 else ():  # refused at every attempt
                unit.session.add(
                    WebhookAttemptRow(
                        subscription_id=subscription,
                        message_id=message_id,
                        attempt=attempt,
                        at=now,
                        status_code=503,
                        delivered=False,
                    )
                )
    assert deliver_due(custody, now=now) == 1
    assert [(a.message_id, a.delivered) for a in _attempt_rows(custody) if a.status_code != 503] == [("msg_100", True)]


class Redirecting(http.server.BaseHTTPRequestHandler):
    """A subscriber that answers a POST with a redirect elsewhere, and a GET there with 200."""

    followed: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", "/elsewhere?token=not-for-the-record")
        self.end_headers()

    def do_GET(self) -> None:
        Redirecting.followed.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_redirect_is_a_failed_attempt_that_names_where_it_pointed(custody: Custody) -> None:
    """Found by a review: urllib followed a 302, as a GET and possibly to another host, and the
    message was recorded as delivered."""
    Redirecting.followed = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        subscribe(custody, f"{origin}/hook", SECRET, ["gov.custody.request.responded.v1"])
        seed_scenarios.chicago_then_cook(custody)
        assert deliver_due(custody) == 1
    finally:
        server.shutdown()
        server.server_close()
    ((status, error, delivered),) = _attempts(custody)
    assert (status, delivered, Redirecting.followed) == (302, False, [])
    assert error is not None and f"redirected to {origin}" in error and "token" not in error, error


def test_a_webhooks_worker_delivers_whichever_transport_it_is_given(custody: Custody, endpoint: str) -> None:
    """Found by a review: over NATS it pulled the subject of a party "webhooks" that no one sends to,
    and failed; the subscribers are served from the store's outbox, which every transport fills."""
    Subscriber.fail_first = False
    subscribe(custody, endpoint, SECRET, ["gov.custody.request.responded.v1"])
    seed_scenarios.chicago_then_cook(custody)
    stop, failures = threading.Event(), []

    def work() -> None:
        try:
            runner.run(custody, "webhooks", "nats", DEFAULT_URL, stop, 0.1)
        except Exception as exc:  # whatever escapes the worker is the finding
            failures.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    for _ in range(100):
        if Subscriber.received or failures:
            break
        threading.Event().wait(0.1)
    stop.set()
    worker.join(10)
    assert failures == [] and len(Subscriber.received) == 1
