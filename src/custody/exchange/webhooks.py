"""Outside subscribers (a newsroom's feed, a county dashboard): each message of the types they chose
is POSTed to their URL as its CloudEvents envelope, signed with HMAC-SHA256 over the body with their
secret, retried with exponential backoff, and every attempt is kept (HMPPS Book a Secure Move's
model). `custody worker --party webhooks` delivers them."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO
from urllib.parse import urljoin, urlsplit

from sqlalchemy import func, select

from custody.domain.errors import InvalidInput
from custody.exchange.catalogue import BY_TYPE
from custody.observability import url_without_secrets
from custody.service import Custody
from custody.store.models import MessageRow, WebhookAttemptRow, WebhookSubscriptionRow
from custody.store.unit import new_id

MAX_ATTEMPTS = 8
WEBHOOK_CHAIN = "webhooks"  # the audit chain of subscriptions and of every delivery attempt
SIGNATURE_HEADER = "X-Custody-Signature"
# POSTs a body to a URL; returns the status, and why the attempt failed where the status alone
# does not say.
Post = Callable[[str, bytes, dict[str, str]], tuple[int, str | None]]


# Sealed at rest (store/crypto.py), a secret of 64 characters takes 184 of the column's 200.
MAX_SECRET = 64


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribe(custody: Custody, url: str, secret: str, types: list[str]) -> str:
    unknown = [t for t in types if t not in BY_TYPE]
    if unknown:
        raise InvalidInput(f"unknown message types {unknown}; see docs/asyncapi.yaml for the catalogue")
    if not _is_http_url(url):
        raise InvalidInput(f"'{url}' is not an http(s) URL with a host and a valid port; give the endpoint's URL")
    if not 16 <= len(secret) <= MAX_SECRET:
        raise InvalidInput(f"the signing secret must be 16 to {MAX_SECRET} characters, not {len(secret)}")
    with custody.unit() as unit:
        row = WebhookSubscriptionRow(
            id=new_id("sub"), url=url, secret=secret, types=types or sorted(BY_TYPE), created_at=custody.clock.now()
        )
        unit.session.add(row)
        # Who sends people's records where is audited like any other disclosure (found by a review:
        # subscriptions and deliveries left no audit entry). The secret is never written.
        unit.record(
            WEBHOOK_CHAIN,
            action="WebhookSubscribed",
            subject=row.id,
            data={"url": url_without_secrets(url), "types": row.types},
        )
    return row.id


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect comes back as the subscriber's answer (urllib then raises it as an HTTPError)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _is_http_url(url: str) -> bool:
    """An http(s) URL with a host, and a port that is a number if it has one (found by a review: a
    port of letters failed as custody "failing unexpectedly", and would have at every delivery)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is no number, or out of range
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None]:
    """A redirect is not followed but is a failed attempt that names where it pointed, without the
    path or query, which may carry credentials (found by a review: urllib followed a 302 as a GET,
    possibly to another host, and the message was recorded as delivered)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=10) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location")
        if 300 <= exc.code < 400 and location:
            where = url_without_secrets(urljoin(url, location))
            return int(exc.code), f"redirected to {where}, not followed: subscribe the URL that takes the POST itself"
        return int(exc.code), None


def deliver_due(custody: Custody, post: Post = _http_post, now: datetime | None = None) -> int:
    """Attempt every due delivery once; return how many attempts were made."""
    now = now or custody.clock.now()
    made = 0
    with custody.unit() as unit:
        subscriptions = list(unit.session.scalars(select(WebhookSubscriptionRow)))
    for sub in subscriptions:
        with custody.unit() as unit:
            # Delivered, or with no attempt left: found by a review, a round took the first 100
            # messages not delivered, and once 100 had no attempt left, nothing was sent again.
            done = select(WebhookAttemptRow.message_id).where(
                WebhookAttemptRow.subscription_id == sub.id,
                WebhookAttemptRow.delivered.is_(True) | (WebhookAttemptRow.attempt >= MAX_ATTEMPTS),
            )
            messages = list(
                unit.session.execute(
                    select(MessageRow.id, MessageRow.envelope)
                    .where(
                        MessageRow.type.in_(sub.types),
                        MessageRow.created_at >= sub.created_at,
                        MessageRow.id.not_in(done),
                    )
                    .order_by(MessageRow.seq)
                    .limit(100)
                )
            )
        for message_id, envelope in messages:
            made += _attempt(custody, sub, message_id, envelope.encode(), post, now)
    return made


def _attempt(
    custody: Custody, sub: WebhookSubscriptionRow, message_id: str, body: bytes, post: Post, now: datetime
) -> int:
    with custody.unit() as unit:
        previous = (
            unit.session.scalar(
                select(func.count())
                .select_from(WebhookAttemptRow)
                .where(WebhookAttemptRow.subscription_id == sub.id, WebhookAttemptRow.message_id == message_id)
            )
            or 0
        )
        last = unit.session.scalars(
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.subscription_id == sub.id, WebhookAttemptRow.message_id == message_id)
            .order_by(WebhookAttemptRow.attempt.desc())
            .limit(1)
        ).first()
    if previous >= MAX_ATTEMPTS or (
        last is not None and last.next_attempt_at is not None and last.next_attempt_at > now
    ):
        return 0
    headers = {
        "Content-Type": "application/cloudevents+json",
        SIGNATURE_HEADER: signature(sub.secret, body),
        "X-Custody-Message-Id": message_id,
    }
    status, error = None, None
    try:
        status, error = post(sub.url, body, headers)
    except (OSError, http.client.HTTPException) as exc:
        # http.client's own errors (a garbled status line, a reply cut short) are no OSError: found
        # by a review, one escaped every round, and the other subscribers were never served.
        error = f"{type(exc).__name__}: {exc}"
    delivered = status is not None and 200 <= status < 300
    attempt = previous + 1
    retry_at = None if delivered or attempt >= MAX_ATTEMPTS else now + timedelta(seconds=2**attempt)
    with custody.unit() as unit:
        unit.session.add(
            WebhookAttemptRow(
                subscription_id=sub.id,
                message_id=message_id,
                attempt=attempt,
                at=now,
                status_code=status,
                error=error,
                delivered=delivered,
                next_attempt_at=retry_at,
            )
        )
        unit.record(
            WEBHOOK_CHAIN,
            action="WebhookDelivered" if delivered else "WebhookDeliveryFailed",
            subject=f"{sub.id}:{message_id}",
            data={
                "url": url_without_secrets(sub.url),
                "message_id": message_id,
                "attempt": attempt,
                "status": status,
                "error": error,
            },
            recorded_at=now,
        )
    return 1
