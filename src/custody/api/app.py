"""The application served by `custody serve`: the API under its OpenAPI contract and the web page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Body, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from custody import __version__
from custody.api import idempotency, problems
from custody.booking.commands import BookingIn, MoveIn, ScheduleIn
from custody.booking.service import FingerprintImage
from custody.domain.divisions import parse_division
from custody.domain.events import FEDERAL
from custody.identity.commands import IdentityIn
from custody.law.browse import diff, in_force
from custody.law.grants import check as check_grants
from custody.law.loader import default_library
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import CancelIn, RequestIn, ResponseIn, ServeIn
from custody.service import Custody

log = logging.getLogger("custody.api")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "web" / "templates"))
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Retry-safe key for this POST")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
TICK_SECONDS = 30.0


def create_app(service: Custody, tick_seconds: float | None = TICK_SECONDS) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_timers(service, tick_seconds)) if tick_seconds else None
        yield
        if task:
            task.cancel()

    app = FastAPI(
        title="custody",
        version=__version__,
        summary="Booking, identification, federal requests, decisions under cited law, release and transfer.",
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        lifespan=lifespan,
    )
    app.state.service = service
    problems.install(app)

    def page(request: Request, items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    async def post(request: Request, key: str | None, status: int, work: Any) -> JSONResponse:
        body = await request.body()
        code, result = await run_in_threadpool(idempotency.run, service, key, request.url.path, body, status, work)
        return JSONResponse(result, status_code=code)

    @app.get("/", response_class=HTMLResponse, tags=["web"], summary="Landing page")
    def index(request: Request) -> HTMLResponse:
        _, recent = service.list_bookings(20, 0)
        _, open_requests = service.list_requests(20, 0)
        library = default_library()
        return TEMPLATES.TemplateResponse(
            request,
            "index.html",
            {
                "bookings": recent,
                "requests": open_requests,
                "law_revision": library.revision,
                "jurisdictions": sorted({j.division.id: j.name for j in library.jurisdictions.values()}.items()),
            },
        )

    @app.get("/health", tags=["web"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # --- bookings (local agency) -------------------------------------------------------------

    @app.post("/bookings", status_code=201, tags=["bookings"], summary="Book an arrest")
    async def create_booking(request: Request, submission: BookingIn, key: IdempotencyKey = None) -> JSONResponse:
        return await post(request, key, 201, lambda: service.booking_view(service.book(submission).id))

    @app.get("/bookings", tags=["bookings"], summary="List bookings")
    def list_bookings(request: Request, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        total, items = service.list_bookings(limit, offset)
        return page(request, items, total, limit, offset)

    @app.get("/bookings/{booking_id}", tags=["bookings"], summary="A booking with its requests and timeline")
    def get_booking(booking_id: str) -> dict[str, Any]:
        return service.booking_view(booking_id)

    @app.post(
        "/bookings/{booking_id}/fingerprints",
        status_code=201,
        tags=["bookings"],
        summary="Store a finger image of the booking",
    )
    def add_fingerprint(
        booking_id: str, position: Annotated[int, Form(ge=1, le=10)], image: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        data = image.file.read()
        service.add_prints(booking_id, [FingerprintImage(position, image.filename or f"finger-{position}", data)])
        return {"booking_id": booking_id, "position": position, "bytes": len(data)}

    @app.post("/bookings/{booking_id}/moves", tags=["bookings"], summary="Move the person to another local agency")
    async def move(request: Request, booking_id: str, submission: MoveIn, key: IdempotencyKey = None) -> JSONResponse:
        return await post(
            request, key, 200, lambda: (service.move(booking_id, submission), service.booking_view(booking_id))[1]
        )

    @app.post("/bookings/{booking_id}/release-schedule", tags=["release"], summary="Schedule a release")
    async def schedule(
        request: Request, booking_id: str, submission: ScheduleIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request,
            key,
            200,
            lambda: (service.schedule_release(booking_id, submission), service.booking_view(booking_id))[1],
        )

    @app.post(
        "/bookings/{booking_id}/release-eligibility",
        tags=["release"],
        summary="The person becomes eligible for release",
    )
    async def release_eligible(
        request: Request, booking_id: str, submission: ReleaseIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request,
            key,
            200,
            lambda: (service.release_eligible(booking_id, submission), service.booking_view(booking_id))[1],
        )

    @app.post("/bookings/{booking_id}/transfer", tags=["release"], summary="Federal officers take custody")
    async def transfer(
        request: Request, booking_id: str, submission: TransferIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request, key, 200, lambda: (service.transfer(booking_id, submission), service.booking_view(booking_id))[1]
        )

    # --- federal side ------------------------------------------------------------------------

    @app.post("/federal/identities", status_code=201, tags=["federal"], summary="Enrol an identity")
    async def enrol(request: Request, submission: IdentityIn, key: IdempotencyKey = None) -> JSONResponse:
        return await post(request, key, 201, lambda: {"identity_id": service.enrol(submission)})

    @app.post(
        "/federal/requests",
        status_code=201,
        tags=["federal"],
        summary="Issue a detainer, notification request or transfer request",
    )
    async def create_request(request: Request, submission: RequestIn, key: IdempotencyKey = None) -> JSONResponse:
        return await post(request, key, 201, lambda: service.request_view(service.issue_request(submission).id))

    @app.get("/federal/requests", tags=["federal"], summary="List federal requests")
    def list_requests(
        request: Request, limit: Limit = 50, offset: Offset = 0, state: str | None = None
    ) -> dict[str, Any]:
        total, items = service.list_requests(limit, offset, state)
        return page(request, items, total, limit, offset)

    @app.get("/federal/requests/{request_id}", tags=["federal"], summary="A request with its decision")
    def get_request(request_id: str) -> dict[str, Any]:
        return service.request_view(request_id)

    @app.post("/federal/requests/{request_id}/response", tags=["requests"], summary="The agency's answer")
    async def respond(
        request: Request, request_id: str, submission: ResponseIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request, key, 200, lambda: (service.respond(request_id, submission), service.request_view(request_id))[1]
        )

    @app.post("/federal/requests/{request_id}/service", tags=["requests"], summary="A copy was served on the person")
    async def served(
        request: Request, request_id: str, submission: ServeIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request, key, 200, lambda: (service.serve(request_id, submission), service.request_view(request_id))[1]
        )

    @app.post("/federal/requests/{request_id}/cancellation", tags=["federal"], summary="Withdraw a request")
    async def cancel(
        request: Request, request_id: str, submission: CancelIn, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await post(
            request, key, 200, lambda: (service.cancel(request_id, submission), service.request_view(request_id))[1]
        )

    @app.get("/federal/messages", tags=["federal"], summary="Messages sent to the federal side, oldest first")
    def federal_messages(request: Request, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        total, items = service.events_for(FEDERAL, limit, offset)
        return page(request, items, total, limit, offset)

    # --- law and audit -----------------------------------------------------------------------

    @app.post("/law/decide", tags=["law"], summary="Decide a DecisionRequest (contract: decision-request.schema.json)")
    def law_decide(document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return service.decide(document)

    @app.get("/law/decisions/{decision_id}", tags=["law"], summary="A logged decision with inputs and trace")
    def decision(decision_id: str) -> dict[str, Any]:
        return service.explain(decision_id)

    @app.get("/law/in-force", tags=["law"], summary="The rules in force for a division's agencies on a date")
    def law_in_force(division: str, on: date) -> dict[str, Any]:
        return in_force(default_library(), parse_division(division), on)

    @app.get("/law/diff", tags=["law"], summary="What changed between two dates, and by which instrument")
    def law_diff(
        division: str, start: Annotated[date, Query(alias="from")], end: Annotated[date, Query(alias="to")]
    ) -> dict[str, Any]:
        return diff(default_library(), parse_division(division), start, end)

    @app.get("/grants/check", tags=["law"], summary="Grant conditions checked against a jurisdiction's law")
    def grants_check(division: str, fiscal_year: int = 2017, on: date | None = None) -> dict[str, Any]:
        return check_grants(default_library(), parse_division(division), fiscal_year, on)

    @app.get("/law", response_class=HTMLResponse, tags=["web"], summary="Law browser")
    def law_browser(
        request: Request, division: str | None = None, on: date | None = None, decision: str | None = None
    ) -> HTMLResponse:
        library = default_library()
        divisions = sorted({j.division.id: j.name for j in library.jurisdictions.values()}.items())
        chosen = division or divisions[-1][0]
        day = on or date.today()
        explained = service.explain(decision) if decision else None
        return TEMPLATES.TemplateResponse(
            request,
            "law.html",
            {
                "divisions": divisions,
                "division": chosen,
                "on": day.isoformat(),
                "view": in_force(library, parse_division(chosen), day),
                "explained": explained,
            },
        )

    @app.post("/law", response_class=HTMLResponse, tags=["web"], summary="Run a decision from the law browser form")
    def law_browser_decide(
        request: Request,
        division: Annotated[str, Form()],
        on: Annotated[date, Form()],
        form: Annotated[str, Form()],
        warrant: Annotated[str, Form()],
        actions: Annotated[list[str], Form()],
        felony_conviction: Annotated[bool, Form()] = False,
        pending_felony: Annotated[bool, Form()] = False,
    ) -> RedirectResponse:
        convictions = [{"offense": "felony conviction", "level": "felony"}] if felony_conviction else []
        pending = [{"offense": "felony charge", "level": "felony"}] if pending_felony else []
        result = service.decide(
            {
                "agency": division,
                "on": on.isoformat(),
                "request": {"form": form, "actions": actions, "warrant": warrant},
                "person": {"convictions": convictions, "pending_charges": pending},
            }
        )
        query = urlencode({"division": division, "on": on.isoformat(), "decision": result["decision_id"]})
        return RedirectResponse(f"/law?{query}#decision", status_code=303)

    @app.get("/audit/verify", tags=["audit"], summary="Verify every audit chain")
    def audit_verify() -> dict[str, Any]:
        reports = service.verify_audit()
        return {"ok": all(r.ok for r in reports), "chains": [r.__dict__ for r in reports]}

    @app.post("/timers/tick", tags=["release"], summary="Run due timers now")
    def tick() -> dict[str, Any]:
        return {"lapsed_holds": service.tick()}

    return app


async def _timers(service: Custody, every: float) -> None:
    """Holds must lapse on time even if no one asks: a small scheduler in the server process."""
    while True:
        try:
            lapsed = await run_in_threadpool(service.tick)
            if lapsed:
                log.info("lapsed holds: %s", ", ".join(lapsed))
        except Exception:
            log.exception("timer tick failed; retrying in %ss", every)
        await asyncio.sleep(every)
