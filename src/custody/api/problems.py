"""RFC 9457 problem details for every error the API returns.

A browser asking for a page (``Accept: text/html``) gets the same problem as a page, with the same
status and a link to go on (sign in, go back); every other client gets ``application/problem+json``.
A 401 carries ``WWW-Authenticate``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from custody.access.roles import Principal
from custody.domain.errors import CustodyError
from custody.domain.inputs import problem_text
from custody.store.db import describe

PROBLEM = "application/problem+json"
log = logging.getLogger("custody.api")


def problem(status: int, title: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class Refusing:
    """ASGI middleware that refuses some HTTP requests as problems before the application reads them;
    ``refusal`` says why (status, title, detail), or None to let the request through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (why := self.refusal(scope)) is not None:
            await problem(*why, scope.get("path"))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _signed_out(who: Principal | None) -> dict[str, Any]:
    return {"who": None}


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


def install(
    app: FastAPI,
    templates: Jinja2Templates | None = None,
    header: Callable[[Principal | None], dict[str, Any]] | None = None,
) -> None:
    """``header``: what a page's header shows for the caller (``web.pages.header``), so a problem
    page says who is signed in, as every other page does."""

    def answer(
        request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> Response:
        response: Response
        if templates is not None and request.headers.get("hx-request") == "true":
            # A form sent by htmx: the problem goes above the form, which keeps what was typed (the
            # whole page swapped for the problem lost it, and showed its JSON).
            response = templates.TemplateResponse(
                request,
                "_problem.html",
                {"status": status, "title": title, "detail": detail, "path": request.url.path},
                status_code=status,
            )
            response.headers["HX-Retarget"] = "#problem"
            response.headers["HX-Reswap"] = "innerHTML"
        elif templates is not None and wants_html(request):
            response = templates.TemplateResponse(
                request,
                "problem.html",
                {
                    **(header or _signed_out)(getattr(request.state, "reader", None)),
                    "status": status,
                    "title": title,
                    "detail": detail,
                    "path": request.url.path,
                },
                status_code=status,
            )
        else:
            response = problem(status, title, detail, request.url.path, **extra)
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(CustodyError)
    async def _custody(request: Request, exc: CustodyError) -> Response:
        return answer(request, exc.status, exc.title, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        return answer(
            request,
            422,
            "Invalid input",
            _what_is_wrong(first),
            errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in errors],
        )

    @app.exception_handler(OperationalError)
    async def _store(request: Request, exc: OperationalError) -> Response:
        log.error("the store could not be reached answering %s %s: %s", request.method, request.url.path, describe(exc))
        return answer(
            request,
            503,
            "Store unavailable",
            "custody cannot reach its store just now. Try again shortly: a POST sent again with the same "
            "Idempotency-Key is never applied twice",
            {"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A fault custody did not foresee: the trace goes to the server's log, never to the caller.
        log.error("unexpected failure answering %s %s", request.method, request.url.path, exc_info=exc)
        return answer(
            request,
            500,
            "Internal error",
            f"custody could not complete this request because of a fault of its own ({type(exc).__name__}, "
            "logged on the server). Retry with the same Idempotency-Key, which is never applied twice, or "
            "report the time and path",
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}; the landing page / links every view, /docs every endpoint"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; /docs lists the methods each path takes"
        return answer(request, exc.status_code, _TITLES.get(exc.status_code, "Error"), detail, dict(exc.headers or {}))


def _what_is_wrong(error: Any) -> str:
    """The first validation error in words a caller can act on: a body that is not JSON, or not a
    JSON object, is said to be so (pydantic names a character position or a Python type instead)."""
    kind, location = error.get("type"), [str(p) for p in error["loc"]]
    if kind == "json_invalid":
        at = location[1] if len(location) > 1 else "?"
        return f"the body is not valid JSON (at character {at}); send a JSON object"
    if location == ["body"] and kind in ("model_attributes_type", "dict_type"):
        return "the body must be a JSON object, sent with Content-Type: application/json"
    return f"{problem_text(error, skip=('body',))}; correct it and send again"


_TITLES = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden", 409: "Conflict"}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do next"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
ERRORS = {
    "400": "The request cannot be read",
    "401": "Sign-in required, or the token is expired, forged or from another issuer (see WWW-Authenticate)",
    "403": "The role or jurisdiction may not do this; the detail says who may",
    "404": "No such record",
    "409": "The record's state does not allow this, it duplicates another, or the Idempotency-Key was reused",
    "422": "Invalid input; the detail names the field",
}
# Record-creating operations and the operations that take the created record's id: OpenAPI links,
# so a client (and schemathesis's stateful tests) can follow a booking or request through the process.
LINKS: dict[tuple[str, str], list[tuple[str, str, str]]] = {
    ("/bookings", "post"): [
        ("GetBooking", "GET /bookings/{booking_id}", "booking_id"),
        ("ScheduleRelease", "POST /bookings/{booking_id}/release-schedule", "booking_id"),
        ("ReleaseEligibility", "POST /bookings/{booking_id}/release-eligibility", "booking_id"),
        ("Move", "POST /bookings/{booking_id}/moves", "booking_id"),
        ("Transfer", "POST /bookings/{booking_id}/transfer", "booking_id"),
        ("IssueRequest", "POST /federal/requests", "#/booking_id"),
    ],
    ("/federal/requests", "post"): [
        ("GetRequest", "GET /federal/requests/{request_id}", "request_id"),
        ("Respond", "POST /federal/requests/{request_id}/response", "request_id"),
        ("Serve", "POST /federal/requests/{request_id}/service", "request_id"),
        ("Cancel", "POST /federal/requests/{request_id}/cancellation", "request_id"),
    ],
}


def document(app: FastAPI, public: frozenset[str]) -> None:
    """Complete the OpenAPI contract with what the routes cannot declare themselves: every error as
    an RFC 9457 problem, the pages' redirects, sign-in being optional on public pages, and links
    from a created booking or request to what can be done with it next."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = generate()
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                page = "web" in operation.get("tags", [])
                responses = operation.setdefault("responses", {})
                for status, description in ERRORS.items():
                    content = {PROBLEM: problem, **({"text/html": {"schema": {"type": "string"}}} if page else {})}
                    responses[status] = {"description": description, "content": content}
                responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
                if page:
                    responses.setdefault("303", {"description": "Done; go on to the page in Location"})
                if path in public:
                    operation["security"] = [{}, *operation.get("security", [])]
                links = LINKS.get((path, method))
                if links:
                    created = next(s for s in responses if s.startswith("2"))
                    responses[created]["links"] = {name: _link(target, parameter) for name, target, parameter in links}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _link(target: str, parameter: str) -> dict[str, Any]:
    method, path = target.split(" ", 1)
    link: dict[str, Any] = {"operationRef": f"#/paths/{path.replace('/', '~1')}/{method.lower()}"}
    if parameter.startswith("#/"):
        link["requestBody"] = {parameter[2:]: "$response.body#/id"}
    else:
        link["parameters"] = {parameter: "$response.body#/id"}
    return link
