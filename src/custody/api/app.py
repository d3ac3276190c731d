"""The application served by `custody serve`: the API under its OpenAPI contract and the pages.

Every route but the public ones (the landing page, sign-in, the law and the issuer's keys) asks
``custody.access.policy.authorise`` first: no credentials is a 401 with ``WWW-Authenticate``, the
wrong role or jurisdiction a 403, both as RFC 9457 problems that say what to do next."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from custody import __version__
from custody.access import revocations, tokens
from custody.access.policy import Op, Resource, Scope, authorise
from custody.access.roles import Principal, Role
from custody.access.tokens import Issuer, Trusted
from custody.access.withholding import as_federal_side_sees
from custody.api import examiner, idempotency, problems, queries
from custody.api.access_log import AccessLog, entry_writer, note_withheld
from custody.api.auth import Allowed, Caller, allowed, need
from custody.api.limits import BodyLimit
from custody.api.origin import SameOrigin
from custody.api.params import Day, Division, Limit, Offset
from custody.booking.commands import BookingIn, MoveIn, ScheduleIn
from custody.booking.service import FingerprintImage
from custody.domain.divisions import parse_division
from custody.exchange import envelope
from custody.identity.commands import IdentityIn
from custody.law.browse import diff, in_force
from custody.law.grants import check as check_grants
from custody.law.loader import default_library
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import CancelIn, RequestIn, ResponseIn, ServeIn
from custody.requests.model import RequestState
from custody.service import Custody
from custody.stats.outcomes import outcomes

log = logging.getLogger("custody.api")
WEB = Path(__file__).parent.parent / "web"
TEMPLATES = Jinja2Templates(directory=str(WEB / "templates"))
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Retry-safe key for this POST")]
TICK_SECONDS = 30.0
EXCHANGE_ENV = "CUSTODY_EXCHANGE"
DEMO_SIGNIN_ENV = "CUSTODY_DEMO_SIGNIN"  # "on" or "off", set by `custody serve` for each server process
# Pages anyone may open; signed in, they show more (the landing page lists recent bookings).
PUBLIC_PAGES = frozenset({"/", "/signin", "/law", "/grants"})


def acting(service: Custody, who: Principal) -> Custody:
    """The facade acting for the signed-in user, so the audit log names them."""
    return service.acting_for(who.actor)


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def create_app(
    service: Custody,
    tick_seconds: float | None = TICK_SECONDS,
    issuer: Trusted | None = None,
    demo_signin: bool = True,
    revocations_seconds: float | None = revocations.REFRESH_SECONDS,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        envelope.prepare()
        tasks = [asyncio.create_task(_timers(service, tick_seconds))] if tick_seconds else []
        if revocations_seconds:
            await run_in_threadpool(_read_revocations, service, app.state.revoked)  # before the first request
            tasks.append(asyncio.create_task(_revocations(service, app.state.revoked, revocations_seconds)))
        yield
        for task in tasks:
            task.cancel()

    app = FastAPI(
        title="custody",
        version=__version__,
        summary="Booking, identification, federal requests, decisions under cited law, release and transfer.",
        description=(
            "Authenticate with `Authorization: Bearer <JWT>` (mint a development token with "
            "`custody token --role ROLE [--agency DIVISION | --area DIVISION]`, or sign in at /signin). "
            "Errors are RFC 9457 `application/problem+json`; every POST takes an `Idempotency-Key`."
        ),
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.issuer = issuer or tokens.trusted()
    # the demo sign-in mints the development issuer's tokens: never where a provider's are the ones accepted
    app.state.demo_signin = demo_signin and isinstance(app.state.issuer, Issuer)
    app.state.revoked = revocations.Revoked()
    app.include_router(examiner.router)
    app.add_middleware(SameOrigin)  # inside the access log: a refused cross-origin form is logged
    app.add_middleware(AccessLog, service=service)
    app.add_middleware(BodyLimit)  # outermost: an oversized body is refused before anything reads it
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")

    async def post(
        request: Request,
        svc: Custody,
        key: str | None,
        status: int,
        work: Callable[[], Any],
        check: Callable[[], None] | None = None,
        body: bytes | None = None,
    ) -> JSONResponse:
        """``work`` runs on ``svc``, the facade acting for the user, which also stores the answer.
        ``check`` (may the user act on that record?) runs first, off the event loop, in the
        transaction of the change when there is one (its read shares the change's connection).
        ``body``: what a retry must repeat, where the request's bytes differ from one try to the
        next (a multipart upload's boundary)."""
        body = await request.body() if body is None else body
        access = entry_writer(request, service, status)
        code, result = await run_in_threadpool(
            idempotency.run, svc, key, request.url.path, body, status, work, access, check
        )
        return JSONResponse(result, status_code=code)

    def on_booking(
        who: Principal, booking_id: str, resource: Resource, op: Op, holder_only: bool = True, via: Custody = service
    ) -> None:
        agency, booked_by = queries.booking_places(via, booking_id)
        authorise(who, resource, op, agency if holder_only else (agency, booked_by))

    def on_request(who: Principal, request_id: str, resource: Resource, op: Op, via: Custody = service) -> None:
        authorise(who, resource, op, queries.request_place(via, request_id))

    def booking_as_seen(svc: Custody, who: Principal, booking_id: str, request: Request) -> dict[str, Any]:
        """A booking as this caller may see it: a federal officer sees what the holding agency's law
        lets it share, whether reading the booking or answered after changing it (a hand-over's
        answer once carried the address and timeline the law withheld)."""
        view = svc.booking_view(booking_id)
        if who.role != Role.federal_officer:
            return view
        shown = queries.federal_booking(svc, booking_id, view)
        note_withheld(request, shown)
        return shown

    def request_as_seen(svc: Custody, who: Principal, request_id: str, request: Request) -> dict[str, Any]:
        """A federal request as this caller may see it (``as_federal_side_sees`` for a federal officer)."""
        view = svc.request_view(request_id)
        return as_federal_side_sees(view) if who.role == Role.federal_officer else view

    async def changed(
        request: Request,
        user: Allowed,
        key: str | None,
        record: tuple[str, Callable[..., None], Callable[[Custody, Principal, str, Request], dict[str, Any]]],
        act: Callable[[Custody], object],
    ) -> JSONResponse:
        """A change to a record (its id, the check of the user's right on it, and its view), by the
        facade acting for the user, answered with the record as it then stands and as the user may
        see it. The right checked on the record is the one the route's signature asked for
        (``allowed``)."""
        record_id, check, show = record
        svc = acting(service, user.who)
        booking: str | Callable[[], str] = (
            record_id if check is on_booking else (lambda: queries.request_booking(svc, record_id))
        )

        def work() -> dict[str, Any]:
            with queries.refusals_as_seen(svc, user.who, booking):
                act(svc)
            return show(svc, user.who, record_id, request)

        return await post(
            request, svc, key, 200, work, check=lambda: check(user.who, record_id, user.resource, user.op, via=svc)
        )

    @app.get("/health", tags=["web"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/.well-known/openid-configuration", tags=["identity"], summary="OIDC discovery for custody's issuer")
    def discovery(request: Request) -> dict[str, Any]:
        return app.state.issuer.discovery(str(request.base_url))  # type: ignore[no-any-return]

    @app.get("/.well-known/jwks.json", tags=["identity"], summary="The issuer's public signing keys (JWKS)")
    def jwks() -> dict[str, Any]:
        return app.state.issuer.jwks()  # type: ignore[no-any-return]

    @app.get("/me", tags=["identity"], summary="Who the token says you are, and where your authority runs")
    def me(who: Caller) -> dict[str, Any]:
        if who is None:
            authorise(None, Resource.booking, Op.read)
        assert who is not None
        return {
            "subject": who.subject,
            "name": who.name,
            "role": who.role.value,
            "agency": who.agency,
            "area": list(who.area),
            "office": who.office,
        }

    # --- bookings (local agency) -------------------------------------------------------------

    @app.post("/bookings", status_code=201, tags=["bookings"], summary="Book an arrest")
    async def create_booking(
        request: Request,
        submission: BookingIn,
        who: Annotated[Principal, need(Resource.booking, Op.create)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        authorise(who, Resource.booking, Op.create, submission.agency)
        svc = acting(service, who)
        return await post(request, svc, key, 201, lambda: svc.booking_view(svc.book(submission).id))

    @app.get("/bookings", tags=["bookings"], summary="List the bookings in your jurisdiction")
    def list_bookings(
        request: Request,
        who: Annotated[Principal, need(Resource.booking, Op.read)],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        scope = authorise(who, Resource.booking, Op.read)
        total, items = queries.list_bookings(service, who, scope, limit, offset)
        note_withheld(request, items)
        return page(items, total, limit, offset)

    @app.get(
        "/bookings/{booking_id}",
        tags=["bookings"],
        summary="A booking with its requests and timeline (federal users: what the agency's law lets them see)",
    )
    def get_booking(
        request: Request, booking_id: str, who: Annotated[Principal, need(Resource.booking, Op.read)]
    ) -> dict[str, Any]:
        on_booking(who, booking_id, Resource.booking, Op.read, holder_only=False)
        return booking_as_seen(service, who, booking_id, request)

    @app.post(
        "/bookings/{booking_id}/fingerprints",
        status_code=201,
        tags=["bookings"],
        summary="Store a finger image of the booking",
    )
    async def add_fingerprint(
        request: Request,
        booking_id: str,
        position: Annotated[int, Form(ge=1, le=10)],
        image: Annotated[UploadFile, File()],
        who: Annotated[Principal, need(Resource.booking, Op.update)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Stored once per ``Idempotency-Key`` (found by a review: the same upload sent twice with one
        key was stored twice); a retry is the same finger, file name and image bytes."""
        data = await image.read()
        name = image.filename or f"finger-{position}"
        svc = acting(service, who)

        def store() -> dict[str, Any]:
            svc.add_prints(booking_id, [FingerprintImage(position, name, data)])
            return {"booking_id": booking_id, "position": position, "bytes": len(data)}

        same = json.dumps({"position": position, "filename": name, "sha256": hashlib.sha256(data).hexdigest()})
        return await post(
            request,
            svc,
            key,
            201,
            store,
            check=lambda: on_booking(who, booking_id, Resource.booking, Op.update, via=svc),
            body=same.encode(),
        )

    @app.post(
        "/bookings/{booking_id}/fingerprints/submission",
        status_code=202,
        tags=["bookings"],
        summary="Submit the booking's stored prints again for a federal search",
    )
    async def submit_fingerprints(
        request: Request,
        booking_id: str,
        who: Annotated[Principal, need(Resource.booking, Op.update)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Every image stored with the booking goes to the federal side as a new submission; use it
        after adding prints the booking did not have (refused captures retaken)."""
        svc = acting(service, who)
        return await post(
            request,
            svc,
            key,
            202,
            lambda: {"booking_id": booking_id, "prints": svc.submit_prints(booking_id)},
            check=lambda: on_booking(who, booking_id, Resource.booking, Op.update, via=svc),
        )

    @app.post("/bookings/{booking_id}/moves", tags=["bookings"], summary="Move the person to another local agency")
    async def move(
        request: Request,
        booking_id: str,
        submission: MoveIn,
        who: Annotated[Allowed, allowed(Resource.booking, Op.update)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (booking_id, on_booking, booking_as_seen),
            lambda svc: svc.move(booking_id, submission),
        )

    @app.post("/bookings/{booking_id}/release-schedule", tags=["release"], summary="Schedule a release")
    async def schedule(
        request: Request,
        booking_id: str,
        submission: ScheduleIn,
        who: Annotated[Allowed, allowed(Resource.release, Op.update)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (booking_id, on_booking, booking_as_seen),
            lambda svc: svc.schedule_release(booking_id, submission),
        )

    @app.post(
        "/bookings/{booking_id}/release-eligibility",
        tags=["release"],
        summary="The person becomes eligible for release",
    )
    async def release_eligible(
        request: Request,
        booking_id: str,
        submission: ReleaseIn,
        who: Annotated[Allowed, allowed(Resource.release, Op.update)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (booking_id, on_booking, booking_as_seen),
            lambda svc: svc.release_eligible(booking_id, submission),
        )

    @app.post("/bookings/{booking_id}/transfer", tags=["release"], summary="Federal officers take custody")
    async def transfer(
        request: Request,
        booking_id: str,
        submission: TransferIn,
        who: Annotated[Allowed, allowed(Resource.release, Op.transfer)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (booking_id, on_booking, booking_as_seen),
            lambda svc: svc.transfer(booking_id, submission),
        )

    @app.get("/release/queue", tags=["release"], summary="Who is due out: holds, open requests, notices")
    def release_queue(
        who: Annotated[Principal, need(Resource.release, Op.read)], limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        scope = authorise(who, Resource.release, Op.read)
        total, items = queries.release_queue(service, who, scope, limit, offset)
        return page(items, total, limit, offset)

    # --- federal side ------------------------------------------------------------------------

    @app.post("/federal/identities", status_code=201, tags=["federal"], summary="Enrol an identity")
    async def enrol(
        request: Request,
        submission: IdentityIn,
        who: Annotated[Principal, need(Resource.identity, Op.create)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        svc = acting(service, who)
        return await post(request, svc, key, 201, lambda: {"identity_id": svc.enrol(submission)})

    @app.get("/federal/hits", tags=["federal"], summary="Identification hits in your area of responsibility")
    def list_hits(
        request: Request,
        who: Annotated[Principal, need(Resource.hit, Op.read)],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        total, items = queries.hits(service, who, authorise(who, Resource.hit, Op.read), limit, offset)
        note_withheld(request, [item["booking"] for item in items])
        return page(items, total, limit, offset)

    @app.post(
        "/federal/requests",
        status_code=201,
        tags=["federal"],
        summary="Issue a detainer, notification request or transfer request",
    )
    async def create_request(
        request: Request,
        submission: RequestIn,
        who: Annotated[Principal, need(Resource.request, Op.create)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        svc = acting(service, who)

        def issue() -> dict[str, Any]:
            with queries.refusals_as_seen(svc, who, submission.booking_id):
                request_id = svc.issue_request(submission).id
            return request_as_seen(svc, who, request_id, request)

        return await post(
            request,
            svc,
            key,
            201,
            issue,
            check=lambda: on_booking(who, submission.booking_id, Resource.request, Op.create, via=svc),
        )

    @app.get("/federal/requests", tags=["federal"], summary="List federal requests in your jurisdiction")
    def list_requests(
        who: Annotated[Principal, need(Resource.request, Op.read)],
        limit: Limit = 50,
        offset: Offset = 0,
        state: RequestState | None = None,
    ) -> dict[str, Any]:
        scope = authorise(who, Resource.request, Op.read)
        total, items = queries.list_requests(service, who, scope, limit, offset, state)
        return page(items, total, limit, offset)

    @app.get("/federal/requests/{request_id}", tags=["federal"], summary="A request with its decision")
    def get_request(
        request: Request, request_id: str, who: Annotated[Principal, need(Resource.request, Op.read)]
    ) -> dict[str, Any]:
        on_request(who, request_id, Resource.request, Op.read)
        return request_as_seen(service, who, request_id, request)

    @app.post("/federal/requests/{request_id}/response", tags=["requests"], summary="The agency's answer")
    async def respond(
        request: Request,
        request_id: str,
        submission: ResponseIn,
        who: Annotated[Allowed, allowed(Resource.request, Op.respond)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (request_id, on_request, request_as_seen),
            lambda svc: svc.respond(request_id, submission),
        )

    @app.post("/federal/requests/{request_id}/service", tags=["requests"], summary="A copy was served on the person")
    async def served(
        request: Request,
        request_id: str,
        submission: ServeIn,
        who: Annotated[Allowed, allowed(Resource.request, Op.serve)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (request_id, on_request, request_as_seen),
            lambda svc: svc.serve(request_id, submission),
        )

    @app.post("/federal/requests/{request_id}/cancellation", tags=["federal"], summary="Withdraw a request")
    async def cancel(
        request: Request,
        request_id: str,
        submission: CancelIn,
        who: Annotated[Allowed, allowed(Resource.request, Op.cancel)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await changed(
            request,
            who,
            key,
            (request_id, on_request, request_as_seen),
            lambda svc: svc.cancel(request_id, submission),
        )

    @app.get("/federal/messages", tags=["federal"], summary="Messages sent to the federal side, oldest first")
    def federal_messages(
        who: Annotated[Principal, need(Resource.message, Op.read)], limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        scope = authorise(who, Resource.message, Op.read)
        total, items = queries.federal_messages(service, who, scope, limit, offset)
        return page(items, total, limit, offset)

    # --- law, statistics and audit -----------------------------------------------------------

    @app.post("/law/decide", tags=["law"], summary="Decide a DecisionRequest (contract: decision-request.schema.json)")
    def law_decide(
        document: Annotated[dict[str, Any], Body()], who: Annotated[Principal, need(Resource.decision, Op.create)]
    ) -> dict[str, Any]:
        return acting(service, who).decide(document)

    @app.get("/law/decisions/{decision_id}", tags=["law"], summary="A logged decision with inputs and trace")
    def decision(decision_id: str, who: Annotated[Principal, need(Resource.decision, Op.read)]) -> dict[str, Any]:
        explained = service.explain(decision_id)
        authorise(who, Resource.decision, Op.read, str(explained["inputs"].get("agency", "")))
        return explained

    @app.get("/law/in-force", tags=["law"], summary="The rules in force for a division's agencies on a date (public)")
    def law_in_force(division: Division, on: Day) -> dict[str, Any]:
        return in_force(default_library(), parse_division(division), on)

    @app.get("/law/diff", tags=["law"], summary="What changed between two dates, and by which instrument (public)")
    def law_diff(
        division: Division, start: Annotated[Day, Query(alias="from")], end: Annotated[Day, Query(alias="to")]
    ) -> dict[str, Any]:
        return diff(default_library(), parse_division(division), start, end)

    @app.get("/grants/check", tags=["law"], summary="Grant conditions checked against a jurisdiction's law (public)")
    def grants_check(division: Division, fiscal_year: int = 2017, on: Day | None = None) -> dict[str, Any]:
        return check_grants(default_library(), parse_division(division), fiscal_year, on)

    @app.get("/stats/outcomes", tags=["stats"], summary="Aggregate outcomes of the process (no personal data)")
    def stats_outcomes(
        who: Annotated[Principal, need(Resource.stats, Op.read)], agency: Division | None = None
    ) -> dict[str, Any]:
        division = parse_division(agency).id if agency else None
        with service.unit() as u:
            return outcomes(u.session, division)

    @app.get("/audit/verify", tags=["audit"], summary="Verify the audit chains you may read")
    def audit_verify(who: Annotated[Principal, need(Resource.audit, Op.verify)]) -> dict[str, Any]:
        scope = authorise(who, Resource.audit, Op.verify)
        reports = [r for r in service.verify_audit() if scope == Scope.any or r.chain == who.agency]
        return {"ok": all(r.ok for r in reports), "chains": [r.__dict__ for r in reports]}

    @app.get("/audit/entries", tags=["audit"], summary="The audit log, newest first (read-only)")
    def audit_entries(
        who: Annotated[Principal, need(Resource.audit, Op.read)],
        chain: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        scope = authorise(who, Resource.audit, Op.read)
        total, items = queries.audit_entries(service, who, scope, chain, limit, offset)
        return page(items, total, limit, offset)

    @app.post("/timers/tick", tags=["release"], summary="Run due timers now")
    def tick(who: Annotated[Principal, need(Resource.timer, Op.run)]) -> dict[str, Any]:
        scope = authorise(who, Resource.timer, Op.run)
        return {"lapsed_holds": acting(service, who).tick(agency=who.agency if scope == Scope.agency else None)}

    from custody.web import pages

    pages.install(app, service, TEMPLATES)
    problems.install(app, TEMPLATES, header=pages.header)
    problems.document(app, public=PUBLIC_PAGES)
    return app


def from_environment() -> FastAPI:
    """The application over the store ``CUSTODY_DATABASE_URL`` names (or ``var/``), built once in each
    worker process of a server that runs several (`custody serve --workers N`); ``CUSTODY_EXCHANGE``
    says whether it applies messages itself (``inline``) or leaves them to `custody worker`."""
    from custody.observability import configure_logging

    configure_logging()
    return create_app(
        Custody.open(actor="api", inline=os.environ.get(EXCHANGE_ENV, "inline") == "inline"),
        demo_signin=os.environ.get(DEMO_SIGNIN_ENV, "off") == "on",
    )


def _read_revocations(service: Custody, revoked: revocations.Revoked) -> None:
    with service.engine.connect() as connection:
        revoked.read(connection)


async def _revocations(service: Custody, revoked: revocations.Revoked, every: float) -> None:
    """Tokens signed out through another server process are refused here too, within ``every``."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(_read_revocations, service, revoked)
        except Exception:
            log.exception("reading the signed-out tokens failed; retrying in %ss", every)


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
