"""RFC 9457 problem details for every error the API returns.

A browser asking for a page (``Accept: text/html``) gets the same problem as a page, with the same
status and a link to go on (sign in, go back); every other client gets ``application/problem+json``.
A 401 carries ``WWW-Authenticate``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from custody.domain.errors import CustodyError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


def install(app: FastAPI, templates: Jinja2Templates | None = None) -> None:
    def answer(
        request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> Response:
        response: Response
        if templates is not None and wants_html(request):
            response = templates.TemplateResponse(
                request,
                "problem.html",
                {"status": status, "title": title, "detail": detail, "who": None, "path": request.url.path},
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
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return answer(
            request,
            422,
            "Invalid input",
            f"{where}: {first['msg']}; correct it and send again",
            errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in errors],
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}; the landing page / links every view, /docs every endpoint"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; /docs lists the methods each path takes"
        return answer(request, exc.status_code, _TITLES.get(exc.status_code, "Error"), detail, dict(exc.headers or {}))


_TITLES = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden", 409: "Conflict"}
