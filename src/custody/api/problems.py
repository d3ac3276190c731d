"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from custody.domain.errors import CustodyError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(CustodyError)
    async def _custody(request: Request, exc: CustodyError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return problem(
            422,
            "Invalid input",
            f"{where}: {first['msg']}",
            request.url.path,
            errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in errors],
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), request.url.path)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


_TITLES = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden", 409: "Conflict"}
