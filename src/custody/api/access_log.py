"""Every request that can show or change personal data leaves an entry in the access log
(``custody.audit.access``) before its answer leaves the server: an answer that cannot be logged is
not given (the client gets a 500 problem instead).

The log covers the API and the pages alike, because both are routes of one application. A route
is logged unless it is listed here as carrying no personal data (the law, the aggregates, the
issuer's keys), so a new route is logged from its first day. The route notes what the law withheld
from a federal reader with :func:`note_withheld`; the caller's identity comes from
``custody.api.auth``. A POST with an ``Idempotency-Key`` writes its entry in the transaction that
stores its answer (:func:`entry_writer`) instead of one of its own.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from sqlalchemy import event
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custody.access.roles import Principal, Role
from custody.audit.access import Access, record, withheld_in
from custody.service import Custody
from custody.store.unit import Unit

log = logging.getLogger("custody.api.access")
LOGGED = "access_logged"  # request state: the status whose entry the route already wrote

# Route templates whose answers carry no personal data: the law, aggregates, sign-in, the contract.
NO_PERSONAL_DATA = frozenset(
    {
        "/health",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/me",
        "/law/in-force",
        "/law/diff",
        "/law/decide",
        "/grants/check",
        "/grants",
        "/stats",
        "/stats/outcomes",
        "/stats/charts/{name}.png",
        "/audit/verify",
        "/signin",
        "/signout",
        "/static",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }
)
_QUERY_VALUE_LIMIT = 200
_ERROR_BODY = (
    b'{"type":"about:blank","title":"Access log unavailable","status":500,'
    b'"detail":"the access could not be written to the audit log, so the answer was withheld; try again"}'
)
_ERROR_HEADERS = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(_ERROR_BODY)).encode())]


def carries_personal_data(route: str, query: dict[str, str], reader: Principal | None) -> bool:
    """Whether a request on ``route`` can show or change personal data."""
    if route in NO_PERSONAL_DATA:
        return False
    if route == "/law":  # the law browser shows a logged decision's inputs only when asked for one
        return "decision" in query
    if route == "/":  # the landing page lists recent bookings to a signed-in user
        return reader is not None
    return True


def note_withheld(request: Request, view: Any) -> None:
    """Record, for the access log, which fields the law withheld from a federal reader in ``view``."""
    reader: Principal | None = getattr(request.state, "reader", None)
    if reader is not None and reader.role == Role.federal_officer:
        request.state.withheld = {**getattr(request.state, "withheld", {}), **withheld_in(view)}


class AccessLog:
    """ASGI middleware: holds each logged answer until its access entry is committed."""

    def __init__(self, app: ASGIApp, service: Custody) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is not None:  # the first part of the body: the route is done, log before answering
                if not await self._log(scope, start["status"], message.get("body", b"")):
                    start = {**start, "status": 500, "headers": _ERROR_HEADERS}
                    message = {"type": "http.response.body", "body": _ERROR_BODY}
                await send(start)
                start = None
            await send(message)

        try:
            await self.app(scope, receive, hold)
        except Exception:
            await self._log(scope, 500)
            raise

    async def _log(self, scope: Scope, status: int, body: bytes = b"") -> bool:
        if scope.get("state", {}).get(LOGGED) == status:
            return True  # the route wrote it with its stored answer (``entry_writer``)
        access = access_of(scope, status, body)
        if access is None:
            return True
        try:
            await run_in_threadpool(self._write, access)
        except Exception:
            log.exception("access log write failed for %s %s", access.method, access.path)
            return False
        return True

    def _write(self, access: Access) -> None:
        with self.service.unit() as unit:
            record(unit, access, self.service.clock.now())


# The ids of the records about people an answer shows (custody.store.unit.new_id): bookings, federal
# requests, identities.
_SHOWN = re.compile(rb"\b(bkg|req|idn)_[0-9a-f]{20}\b")
_SHOWN_KEYS = {b"bkg": "shown_bookings", b"req": "shown_requests", b"idn": "shown_identities"}


def shown_in(body: bytes, named: Iterable[str] = ()) -> dict[str, str]:
    """The records an answer's body shows, by kind, in the order shown, other than those ``named``
    in its path: a list or page read must say whose records it showed, so that "who saw this
    person?" has an answer (found by a review: lists and pages logged no record at all)."""
    seen: dict[str, dict[str, None]] = {}
    skip = set(named)
    for match in _SHOWN.finditer(body):
        record = match.group(0).decode()
        if record not in skip:
            seen.setdefault(_SHOWN_KEYS[match.group(1)], {})[record] = None
    return {kind: ",".join(ids) for kind, ids in seen.items()}


def access_of(scope: Scope, status: int, body: bytes = b"") -> Access | None:
    """The entry a request answered with ``status`` (and, if it succeeded, the first part of ``body``,
    which holds every record a list or page shows) leaves, or None if it shows no personal data."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return None  # no route matched: a 404 that shows nothing
    state = scope.get("state", {})
    reader: Principal | None = state.get("reader")
    query = {k: v[:_QUERY_VALUE_LIMIT] for k, v in _query(scope).items()}
    if not carries_personal_data(template, query, reader):
        return None
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    named = {k: str(v) for k, v in scope.get("path_params", {}).items()}
    return Access(
        reader=reader,
        method=scope["method"],
        route=template,
        path=scope["path"],
        records={**named, **(shown_in(body, named.values()) if status < 400 else {})},
        query=query,
        client=client[0] if client else "unknown",
        user_agent=headers.get("user-agent", "")[:_QUERY_VALUE_LIMIT],
        status=status,
        withheld=state.get("withheld", {}),
        credentials=state.get("credentials", "none"),
    )


def entry_writer(request: Request, service: Custody, status: int) -> Callable[[Unit, Any], None]:
    """Write the request's entry, as answered with ``status`` and ``answer``, in a transaction the
    route commits anyway (the stored answer of an ``Idempotency-Key``): one transaction fewer per
    POST. The entry counts as written only once committed and only for that status; otherwise the
    middleware writes it as before."""

    def write(unit: Unit, answer: Any) -> None:
        # the records the answer shows, as the middleware finds them in a body (a code review found
        # keyed POSTs logged none)
        access = access_of(request.scope, status, json.dumps(answer).encode())
        if access is not None:
            record(unit, access, service.clock.now())
        # Marked only once committed: if the transaction fails, the middleware writes the entry.
        event.listen(unit.session, "after_commit", lambda _: setattr(request.state, LOGGED, status), once=True)

    return write


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return dict(parse_qsl(raw, keep_blank_values=True))


def log_session(
    service: Custody, request: Request, who: Principal | None, status: int, credentials: str = "demo sign-in"
) -> None:
    """A demo sign-in, allowed or refused, or a sign-out, on the user's chain (an unknown user's on
    the anonymous one): neither left an entry, since neither page shows personal data (found by a
    review; the CJIS Security Policy's audit events include successful and unsuccessful logons)."""
    client = request.client
    access = Access(
        reader=who,
        method=request.method,
        route=request.url.path,
        path=request.url.path,
        records={},
        query={},
        client=client.host if client else "unknown",
        user_agent=request.headers.get("user-agent", "")[:_QUERY_VALUE_LIMIT],
        status=status,
        credentials=credentials,
    )
    with service.unit() as unit:
        record(unit, access, service.clock.now())
