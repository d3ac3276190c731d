"""The pages: server-rendered views for each kind of user, usable without JavaScript.

Each page asks the same authorisation table as the API (``custody.access.policy``); forms post
back with a hidden idempotency key so a double click records once, then redirect (post/redirect/
get) to the page with a note of what was done. htmx, where present, only boosts links and forms
and refreshes the release queue's countdowns.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, File, Form, Query, Request, Security, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select

from custody.access import revocations
from custody.access.policy import Op, Resource, Scope, allowed, authorise
from custody.access.roles import DEMO_USERS, Principal, Role
from custody.access.tokens import InvalidToken
from custody.api import idempotency, queries
from custody.api.access_log import log_session, note_withheld
from custody.api.auth import COOKIE, Caller, bearer, presented
from custody.api.params import Day, Division, Offset, PageLimit
from custody.audit.access import CHAIN_PREFIX as ACCESS_CHAIN
from custody.booking.commands import BookingIn
from custody.booking.model import ReleaseReason
from custody.booking.service import FingerprintImage
from custody.domain.divisions import Level, local_zone, parse_division
from custody.domain.errors import CustodyError, InvalidInput, NotFound
from custody.domain.inputs import parse_input
from custody.identity.prints.ansi_nist import NistFormatError, read_transaction
from custody.identity.prints.images import UnreadableImage, as_file
from custody.law.browse import in_force
from custody.law.grants import check as check_grants
from custody.law.grants import fiscal_years
from custody.law.loader import default_library
from custody.law.model import Action
from custody.release.commands import ReleaseIn, TransferIn
from custody.release.service import hands_over
from custody.requests.commands import RequestIn, ResponseIn, ServeIn
from custody.requests.model import Warrant
from custody.service import Custody, hold_summary
from custody.stats.charts import CHARTS
from custody.stats.outcomes import outcomes
from custody.store.models import BookingRow, FederalRequestRow, HoldRow

CHART_DIR = Path(__file__).resolve().parents[3] / "docs" / "charts"
FORMS = ("I-247A", "I-247D", "I-247N", "I-247X", "I-247")
# Each view, who may open it (the same table as the API), and what it is for.
VIEWS: list[tuple[str, str, Resource | None, Op | None, str]] = [
    ("Booking desk", "/desk", Resource.booking, Op.create, "book an arrest, add prints, see the identification"),
    ("Detainer inbox", "/inbox", Resource.request, Op.respond, "each request with its decision; serve, respond"),
    ("Release queue", "/release", Resource.release, Op.read, "who is due out, hold countdowns, notices"),
    ("Federal view", "/federal", Resource.hit, Op.read, "hits, requests, responses, pickups due"),
    ("Law browser", "/law", None, None, "the law in force on a date; run a decision"),
    ("Grant conditions", "/grants", None, None, "a jurisdiction's law against each federal grant condition"),
    ("Statistics", "/stats", Resource.stats, Op.read, "outcomes of the process and the charts"),
    ("Audit log", "/audit", Resource.audit, Op.read, "the hash-chained log and its verification"),
]
HOME = {
    Role.jail_officer: "/desk",
    Role.jail_supervisor: "/release",
    Role.federal_officer: "/federal",
    Role.grant_administrator: "/grants",
    Role.analyst: "/stats",
    Role.auditor: "/audit",
    Role.administrator: "/audit",
}
IdemField = Annotated[str | None, Form(description="Hidden field: retry-safe key of this form submission")]
WhenField = Annotated[str | None, Form(description="Local date and time (YYYY-MM-DDTHH:MM); default now")]


def local_input(moment: datetime, division: str) -> str:
    """A time as an ``<input type="datetime-local">`` value in the agency's zone."""
    return moment.astimezone(local_zone(parse_division(division))).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str | None, division: str, now: datetime) -> datetime:
    """A form's local time, read in the agency's time zone; empty means now."""
    if not text or not text.strip():
        return now
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date and time; use the form YYYY-MM-DDTHH:MM") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(str(local_zone(parse_division(division)))))
    return moment


def local_time(moment: str | datetime | None, agency: str | None = None) -> str:
    """A moment as the agency's officers read a clock: its local date and time with the zone's
    abbreviation ("2026-12-09 04:28 EST"), not UTC, which put a Miami hold's end five hours off what
    the officer's own clock says. A moment of no agency (an audit chain of the system) stays UTC."""
    if moment is None or moment == "":
        return ""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if agency and agency.startswith(ACCESS_CHAIN):  # an access chain of one jurisdiction: its clock
        agency = agency.removeprefix(ACCESS_CHAIN)  # (found by a review: the audit table mixed zones)
    try:
        zone = local_zone(parse_division(agency)) if agency else UTC
    except CustodyError:
        zone = UTC
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@lru_cache(maxsize=4096)
def place(division: str | None) -> Markup:
    """A division as people name it ("Cook County, Illinois"), its OCD id in the title for whoever
    needs the id; a list of them (a federal officer's area) each named. Officers read "Cook County",
    not "ocd-division/country:us/state:il/county:cook"."""
    if not division:
        return Markup("")
    library = default_library()
    named = [
        Markup('<span class="place" title="{}">{}</span>').format(part, library.name_of(part))
        if library.name_of(part) != part
        else Markup.escape(part)
        for part in division.split(", ")
    ]
    return Markup(", ").join(named)


def words(value: object) -> str:
    """A state or kind as words: "held on detainer", not "held_on_detainer"."""
    return "" if value is None else str(value).replace("_", " ")


# How a hold's hours are counted, in the words of the form and law that set them.
CLOCK_WORDS = {
    "clock_hours": "counted on the clock, nights and weekends included",
    "excluding_weekends_and_holidays": "not counting Saturdays, Sundays and federal holidays",
    "until_end_of_release_day": "and no later than 11:59 p.m. of the day of release eligibility",
}


def countdown(until: str, now: datetime) -> str:
    left = datetime.fromisoformat(until) - now
    if left <= timedelta(0):
        return "limit reached"
    hours, rest = divmod(int(left.total_seconds()), 3600)
    return f"{hours} h {rest // 60:02d} min left"


def own_division(who: Principal | None, divisions: list[tuple[str, str]]) -> str:
    """Of these (id, name) divisions, the signed-in officer's own agency's or area's, else the first:
    a page about law opens on the law that binds the reader."""
    known = [d for d, _ in divisions]
    mine = ((who.agency,) if who.agency else who.area) if who else ()
    return next((d for d in mine if d in known), known[0])


def header(who: Principal | None) -> dict[str, Any]:
    """What every page's header shows: who is signed in, and the views open to them (a problem
    page too: a refused officer is still signed in, and should see where they can go)."""
    views = [
        (label, href, purpose)
        for label, href, resource, op, purpose in VIEWS
        if resource is None or op is None or allowed(who, resource, op)
    ]
    return {"who": who, "views": views}


def install(app: FastAPI, service: Custody, templates: Jinja2Templates) -> None:
    templates.env.filters["local"] = local_time
    templates.env.filters["place"] = place
    templates.env.filters["words"] = words
    templates.env.filters["clock_words"] = lambda clock: CLOCK_WORDS.get(clock, str(clock).replace("_", " "))

    def render(request: Request, name: str, who: Principal | None, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {
                **header(who),
                "done": request.query_params.get("done"),
                "new_key": uuid.uuid4().hex,
                **context,
            },
        )

    def acting(who: Principal) -> Custody:
        return service.acting_for(who.actor, inline=True)

    async def once(request: Request, key: str | None, work: Any) -> Any:
        """Run a form's work once per idempotency key (a double submission replays the first); an
        uploaded file counts by its name and digest, so the key sent again with another file is refused."""
        form = await request.form()
        fields = []
        for k, v in form.multi_items():
            if isinstance(v, str):
                fields.append((k, v))
            else:
                content = await v.read()
                await v.seek(0)
                fields.append((k, f"{v.filename}:{hashlib.sha256(content).hexdigest()}"))
        body = urlencode(sorted(fields)).encode()
        _, result = await run_in_threadpool(idempotency.run, service, key, request.url.path, body, 200, work)
        return result

    def back(path: str, done: str, anchor: str = "") -> RedirectResponse:
        return RedirectResponse(f"{path}?{urlencode({'done': done})}{anchor}", status_code=303)

    # --- landing and sign-in -----------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, tags=["web"], summary="Landing page: every view and the sign-in")
    def index(request: Request, who: Caller) -> HTMLResponse:
        library = default_library()
        recent: list[dict[str, Any]] = []
        if who is not None and allowed(who, Resource.booking, Op.read):
            _, recent = queries.list_bookings(service, who, authorise(who, Resource.booking, Op.read), 10, 0)
            note_withheld(request, recent)
        return render(
            request,
            "index.html",
            who,
            all_views=VIEWS,
            demo_users=list(DEMO_USERS.values()) if app.state.demo_signin else [],
            bookings=recent,
            law_revision=library.revision,
            jurisdictions=sorted({j.division.id: j.name for j in library.jurisdictions.values()}.items()),
        )

    @app.get("/signin", response_class=HTMLResponse, tags=["web"], summary="Sign in (demo users of the dev issuer)")
    def signin_page(request: Request, who: Caller, next: str | None = None) -> HTMLResponse:
        return render(
            request,
            "signin.html",
            who,
            demo_users=list(DEMO_USERS.values()) if app.state.demo_signin else [],
            next=next if next and next.startswith("/") and not next.startswith("//") else "",
        )

    @app.post("/signin", tags=["web"], summary="Sign in as a demo user: the token goes into a cookie")
    def signin(
        request: Request,
        user: Annotated[str, Form(description="A demo user's subject, as listed on /signin")],
        next: Annotated[str | None, Form()] = None,
    ) -> RedirectResponse:
        principal = DEMO_USERS.get(user)
        if not app.state.demo_signin:
            log_session(service, request, principal, NotFound.status)
            raise NotFound("demo sign-in is off on this server; use a token from your identity provider")
        if principal is None:
            log_session(service, request, None, InvalidInput.status)
            raise InvalidInput(f"no demo user '{user}'; choose one of the users listed on /signin")
        log_session(service, request, principal, 303)
        target = next if next and next.startswith("/") and not next.startswith("//") else HOME[principal.role]
        response = RedirectResponse(target, status_code=303)
        token = app.state.issuer.mint(principal)
        # Secure wherever the page came over HTTPS (behind a proxy named with --trust-proxy, as it says)
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=8 * 3600, path="/", secure=secure)
        return response

    @app.post("/signout", tags=["web"], summary="Sign out: the token is refused from now on, and the cookie forgotten")
    def signout(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None
    ) -> RedirectResponse:
        """Revokes the token the request carries (cookie or bearer) until it expires. A token that
        is no longer good (expired, signed out) has nothing left to revoke: the cookie still goes."""
        token = presented(request, credentials)
        if token:
            try:
                verified = app.state.issuer.verify(token)
            except InvalidToken:
                verified = None
            if verified is not None:
                known: revocations.Revoked = app.state.revoked
                before = verified.token_id and known.signed_out_at(verified.token_id)
                with service.unit() as unit:
                    revoked = revocations.revoke(unit, verified)
                known.add(verified, datetime.now(UTC))
                if before:
                    kind = "sign-out (already signed out)"
                else:
                    kind = "sign-out" if revoked else "sign-out (a token without an id: it stays good until it expires)"
                log_session(service, request, verified.principal, 303, kind)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- booking desk ------------------------------------------------------------------------

    @app.get("/desk", response_class=HTMLResponse, tags=["web"], summary="Booking desk")
    def desk(
        request: Request,
        who: Caller,
        limit: PageLimit = 20,
        offset: Offset = 0,
    ) -> HTMLResponse:
        scope = authorise(who, Resource.booking, Op.create)
        assert who is not None and who.agency is not None
        total, bookings = queries.list_bookings(service, who, scope, limit, offset)
        return render(
            request,
            "desk.html",
            who,
            bookings=bookings,
            total=total,
            limit=limit,
            offset=offset,
            now=local_input(service.clock.now(), who.agency),
        )

    @app.post("/desk", tags=["web"], summary="Book an arrest from the desk form")
    async def desk_book(
        request: Request,
        who: Caller,
        booking_number: Annotated[str, Form()],
        last_name: Annotated[str, Form()],
        first_name: Annotated[str, Form()],
        date_of_birth: Annotated[date, Form()],
        charge: Annotated[str, Form()],
        charge_level: Annotated[str, Form()],
        booked_at: WhenField = None,
        fbi: Annotated[str | None, Form()] = None,
        address: Annotated[str | None, Form()] = None,
        charge_statute: Annotated[str | None, Form()] = None,
        conviction: Annotated[str | None, Form()] = None,
        conviction_level: Annotated[str | None, Form()] = None,
        idempotency_key: IdemField = None,
    ) -> RedirectResponse:
        authorise(who, Resource.booking, Op.create)
        assert who is not None and who.agency is not None
        agency = who.agency
        data: dict[str, Any] = {
            "agency": agency,
            "booking_number": booking_number,
            "booked_at": parse_local(booked_at, agency, service.clock.now()).isoformat(),
            "person": {
                "last_name": last_name,
                "first_name": first_name,
                "date_of_birth": date_of_birth.isoformat(),
                "identifiers": {"fbi": fbi} if fbi and fbi.strip() else {},
                "address": address.strip() if address and address.strip() else None,
            },
            "charges": [
                {"offense": charge, "level": charge_level, **({"statute": charge_statute} if charge_statute else {})}
            ],
            "convictions": [{"offense": conviction, "level": conviction_level or "felony"}] if conviction else [],
        }

        submission = parse_input(BookingIn, data)
        svc = acting(who)
        result = await once(request, idempotency_key, lambda: {"id": svc.book(submission).id})
        return back(f"/desk/{result['id']}", "booked")

    @app.get("/desk/{booking_id}", response_class=HTMLResponse, tags=["web"], summary="A booking at the desk")
    def desk_booking(request: Request, booking_id: str, who: Caller) -> HTMLResponse:
        authorise(who, Resource.booking, Op.read)
        agency, booked_by = queries.booking_places(service, booking_id)
        authorise(who, Resource.booking, Op.read, (agency, booked_by))
        assert who is not None
        if who.role == Role.federal_officer:
            return RedirectResponse(f"/federal/bookings/{booking_id}", status_code=303)  # type: ignore[return-value]
        view = service.booking_view(booking_id)
        identification = [e for e in view["timeline"] if e["type"] == "IdentificationReceived"]
        searches = [e for e in view["timeline"] if e["type"] == "FingerprintsSearched"]
        prints = [e for e in view["timeline"] if e["type"] == "FingerprintStored"]
        return render(
            request,
            "booking.html",
            who,
            b=view,
            identification=identification[-1] if identification else None,
            unread=searches[-1]["data"].get("refused", []) if searches else [],
            prints=prints,
            can_update=allowed(who, Resource.booking, Op.update, agency),
        )

    @app.post("/desk/{booking_id}/prints", tags=["web"], summary="Upload finger images or an ANSI/NIST-ITL file")
    async def desk_prints(
        request: Request,
        booking_id: str,
        who: Caller,
        image: Annotated[UploadFile | None, File(description="A finger image (PNG, WSQ, ...)")] = None,
        position: Annotated[int | None, Form(ge=1, le=10)] = None,
        nist: Annotated[UploadFile | None, File(description="An ANSI/NIST-ITL transaction")] = None,
        idempotency_key: IdemField = None,
    ) -> RedirectResponse:
        authorise(who, Resource.booking, Op.update)
        assert who is not None
        authorise(
            who, Resource.booking, Op.update, (await run_in_threadpool(queries.booking_places, service, booking_id))[0]
        )
        images: list[FingerprintImage] = []
        if nist is not None and nist.filename:
            try:
                transaction = read_transaction(await nist.read())
            except NistFormatError as exc:
                raise InvalidInput(f"{nist.filename} is not a readable ANSI/NIST-ITL file: {exc}") from None
            try:
                images += [
                    FingerprintImage(f.position, f"{nist.filename}#{f.idc}", as_file(f)) for f in transaction.fingers()
                ]
            except UnreadableImage as exc:
                raise InvalidInput(f"{nist.filename}: {exc}; nothing was stored") from None
        if image is not None and image.filename:
            if position is None:
                raise InvalidInput("say which finger the image is (position 1-10: 1 right thumb … 10 left little)")
            images.append(FingerprintImage(position, image.filename, await image.read()))
        if not images:
            raise InvalidInput("choose a finger image (with its position) or an ANSI/NIST-ITL file, then upload")

        def store() -> dict[str, Any]:
            acting(who).add_prints(booking_id, images)
            return {}

        await once(request, idempotency_key, store)
        return back(f"/desk/{booking_id}", f"stored {len(images)} print(s)")

    @app.post("/desk/{booking_id}/prints/submission", tags=["web"], summary="Submit the stored prints again")
    async def desk_submit_prints(
        request: Request, booking_id: str, who: Caller, idempotency_key: IdemField = None
    ) -> RedirectResponse:
        authorise(who, Resource.booking, Op.update)
        assert who is not None
        authorise(
            who, Resource.booking, Op.update, (await run_in_threadpool(queries.booking_places, service, booking_id))[0]
        )
        # Once per form shown: a double click searched twice (found by a review).
        sent = await once(request, idempotency_key, lambda: {"sent": acting(who).submit_prints(booking_id)})
        return back(f"/desk/{booking_id}", f"submitted {sent['sent']} print(s) for a new federal search")

    # --- detainer inbox ----------------------------------------------------------------------

    @app.get("/inbox", response_class=HTMLResponse, tags=["web"], summary="Detainer inbox")
    def inbox(
        request: Request,
        who: Caller,
        limit: PageLimit = 20,
        offset: Offset = 0,
    ) -> HTMLResponse:
        scope = authorise(who, Resource.request, Op.respond)
        assert who is not None and who.agency is not None
        total, listed = queries.list_requests(service, who, scope, limit, offset)
        requests = [service.request_view(r["id"]) for r in listed]
        bookings = {r["booking_id"]: service.booking_view(r["booking_id"]) for r in requests}
        return render(
            request,
            "inbox.html",
            who,
            requests=requests,
            bookings=bookings,
            total=total,
            limit=limit,
            offset=offset,
            now=local_input(service.clock.now(), who.agency),
        )

    @app.post("/inbox/{request_id}/serve", tags=["web"], summary="Record that the copy was served on the person")
    async def inbox_serve(
        request: Request, request_id: str, who: Caller, at: WhenField = None, idempotency_key: IdemField = None
    ) -> RedirectResponse:
        authorise(who, Resource.request, Op.serve)
        assert who is not None
        agency = await run_in_threadpool(queries.request_place, service, request_id)
        authorise(who, Resource.request, Op.serve, agency)
        submission = ServeIn(at=parse_local(at, agency, service.clock.now()))
        await once(request, idempotency_key, lambda: (acting(who).serve(request_id, submission), {})[1])
        return back("/inbox", "copy served", f"#{request_id}")

    @app.post("/inbox/{request_id}/respond", tags=["web"], summary="Answer the request (per action honor/decline)")
    async def inbox_respond(
        request: Request, request_id: str, who: Caller, at: WhenField = None, idempotency_key: IdemField = None
    ) -> RedirectResponse:
        authorise(who, Resource.request, Op.respond)
        assert who is not None
        agency = await run_in_threadpool(queries.request_place, service, request_id)
        authorise(who, Resource.request, Op.respond, agency)
        form = await request.form()
        answers = {a.value: str(form[f"answer_{a.value}"]) for a in Action if form.get(f"answer_{a.value}")}
        reasons = {a.value: str(form[f"reason_{a.value}"]) for a in Action if form.get(f"reason_{a.value}")}

        submission = parse_input(
            ResponseIn,
            {"answers": answers, "reasons": reasons, "at": parse_local(at, agency, service.clock.now()).isoformat()},
        )
        await once(request, idempotency_key, lambda: (acting(who).respond(request_id, submission), {})[1])
        return back("/inbox", "answered", f"#{request_id}")

    # --- release queue -----------------------------------------------------------------------

    @app.get("/release", response_class=HTMLResponse, tags=["web"], summary="Release queue")
    def release(
        request: Request,
        who: Caller,
        limit: PageLimit = 20,
        offset: Offset = 0,
    ) -> HTMLResponse:
        scope = authorise(who, Resource.release, Op.read)
        assert who is not None
        total, queue = queries.release_queue(service, who, scope, limit, offset)
        _, gone = queries.release_queue(service, who, scope, 10, 0, left=True)
        now = service.clock.now()
        for item in queue:
            for hold in item["holds"]:
                hold["countdown"] = countdown(hold["expires_at"], now) if hold["state"] == "active" else hold["state"]
        zone_of = who.agency or (queue[0]["agency"] if queue else "ocd-division/country:us/state:il")
        return render(
            request,
            "release.html",
            who,
            queue=queue,
            gone=gone,
            total=total,
            limit=limit,
            offset=offset,
            now=local_input(now, zone_of),
            reasons=[r.value for r in ReleaseReason],
            can_update=allowed(who, Resource.release, Op.update),
        )

    @app.post("/release/{booking_id}/eligibility", tags=["web"], summary="Record release eligibility (form)")
    async def release_record(
        request: Request,
        booking_id: str,
        who: Caller,
        reason: Annotated[ReleaseReason, Form()],
        at: WhenField = None,
        officer: Annotated[str | None, Form(description="Federal officer present at release, if any")] = None,
        detainer_not_served: Annotated[
            bool, Form(description="An I-247A on record was never served on the person: it did not take effect")
        ] = False,
        idempotency_key: IdemField = None,
    ) -> RedirectResponse:
        authorise(who, Resource.release, Op.update)
        assert who is not None
        agency = (await run_in_threadpool(queries.booking_places, service, booking_id))[0]
        authorise(who, Resource.release, Op.update, agency)
        present = {"name": officer} if officer and officer.strip() else None

        submission = parse_input(
            ReleaseIn,
            {
                "reason": reason.value,
                "at": parse_local(at, agency, service.clock.now()).isoformat(),
                "federal_officers_present": present,
                "detainer_not_served": detainer_not_served,
            },
        )
        await once(request, idempotency_key, lambda: (acting(who).release_eligible(booking_id, submission), {})[1])
        return back("/release", "release recorded", f"#{booking_id}")

    @app.post("/release/{booking_id}/transfer", tags=["web"], summary="Hand the person to federal officers (form)")
    async def release_transfer(
        request: Request,
        booking_id: str,
        who: Caller,
        officer: Annotated[str, Form(min_length=1)],
        at: WhenField = None,
        idempotency_key: IdemField = None,
    ) -> RedirectResponse:
        authorise(who, Resource.release, Op.transfer)
        assert who is not None
        agency = (await run_in_threadpool(queries.booking_places, service, booking_id))[0]
        authorise(who, Resource.release, Op.transfer, agency)
        submission = parse_input(
            TransferIn, {"at": parse_local(at, agency, service.clock.now()).isoformat(), "officer": {"name": officer}}
        )

        def transfer() -> dict[str, Any]:
            with queries.refusals_as_seen(service, who, booking_id):
                acting(who).transfer(booking_id, submission)
            return {}

        await once(request, idempotency_key, transfer)
        if who.role == Role.federal_officer:  # the federal view's rows are "hit-<booking>" (found by a review)
            return back("/federal", "custody transferred", f"#hit-{booking_id}")
        return back("/release", "custody transferred", f"#{booking_id}")

    # --- federal view ------------------------------------------------------------------------

    @app.get("/federal", response_class=HTMLResponse, tags=["web"], summary="Federal view")
    def federal(
        request: Request,
        who: Caller,
        limit: PageLimit = 20,
        offset: Offset = 0,
    ) -> HTMLResponse:
        scope = authorise(who, Resource.hit, Op.read)
        assert who is not None
        total, hits = queries.hits(service, who, scope, limit, offset)
        note_withheld(request, [hit["booking"] for hit in hits])
        request_scope = authorise(who, Resource.request, Op.read)
        _, requests = queries.list_requests(service, who, request_scope, 50, 0)
        now = service.clock.now()
        with service.unit() as u:
            pickups = [
                {
                    **hold_summary(h),
                    "booking_id": b.id,  # the link and the form named no booking (found by a test)
                    "booking_number": b.booking_number,
                    "agency": b.agency,
                    "countdown": countdown(h.expires_at.isoformat(), now),
                    # each row's own zone: the officer's area may span two (found by a review)
                    "now": local_input(now, b.agency),
                    "declined": None
                    if hands_over(r)
                    else (r.response or {}).get("answers", {}).get(Action.transfer.value, {}).get("reason", ""),
                }
                for h, b, r in u.session.execute(
                    select(HoldRow, BookingRow, FederalRequestRow)
                    .join(BookingRow, BookingRow.id == HoldRow.booking_id)
                    .join(FederalRequestRow, FederalRequestRow.id == HoldRow.request_id)
                    .where(HoldRow.state == "active", queries.within(BookingRow.agency, who, scope))
                    .order_by(HoldRow.expires_at)
                )
            ]
        for hit in hits:
            hit["now"] = local_input(now, hit["booking"]["agency"])
        return render(
            request,
            "federal.html",
            who,
            hits=hits,
            total=total,
            limit=limit,
            offset=offset,
            requests=requests,
            pickups=pickups,
            # Each form with the period it could be issued in: the one in use today first.
            forms=sorted(
                ((f, default_library().forms[f].period()) for f in FORMS),
                key=lambda item: not default_library().forms[item[0]].in_use(date.today()),
            ),
            warrants=[w.value for w in Warrant],
            can_issue=allowed(who, Resource.request, Op.create),
            # an administrator reads the view but cannot record a pickup (its button answered 403)
            can_pick_up=allowed(who, Resource.release, Op.transfer),
        )

    @app.post("/federal/issue", tags=["web"], summary="Issue a detainer or other request from the federal view (form)")
    async def federal_issue(
        request: Request,
        who: Caller,
        booking_id: Annotated[str, Form()],
        form: Annotated[str, Form()],
        warrant: Annotated[str, Form()],
        issued_at: WhenField = None,
        idempotency_key: IdemField = None,
    ) -> RedirectResponse:
        authorise(who, Resource.request, Op.create)
        assert who is not None
        agency = (await run_in_threadpool(queries.booking_places, service, booking_id))[0]
        authorise(who, Resource.request, Op.create, agency)

        submission = parse_input(
            RequestIn,
            {
                "booking_id": booking_id,
                "form": form,
                "warrant": warrant,
                "officer": {"name": who.name, "office": who.office},
                "issued_at": parse_local(issued_at, agency, service.clock.now()).isoformat(),
            },
        )
        svc = acting(who)

        def issue() -> dict[str, Any]:
            with queries.refusals_as_seen(svc, who, booking_id):
                return {"id": svc.issue_request(submission).id}

        result = await once(request, idempotency_key, issue)
        return back("/federal", f"request {result['id']} issued", f"#{result['id']}")

    @app.get(
        "/federal/bookings/{booking_id}",
        response_class=HTMLResponse,
        tags=["web"],
        summary="A booking as the federal side may see it",
    )
    def federal_booking(request: Request, booking_id: str, who: Caller) -> HTMLResponse:
        authorise(who, Resource.booking, Op.read)
        assert who is not None
        agency, booked_by = queries.booking_places(service, booking_id)
        authorise(who, Resource.booking, Op.read, (agency, booked_by))
        view = queries.federal_booking(service, booking_id, service.booking_view(booking_id))
        note_withheld(request, view)
        return render(request, "federal_booking.html", who, b=view, sharing=view["sharing"])

    # --- law browser -------------------------------------------------------------------------

    @app.get("/law", response_class=HTMLResponse, tags=["web"], summary="Law browser")
    def law_browser(
        request: Request, who: Caller, division: str | None = None, on: Day | None = None, decision: str | None = None
    ) -> HTMLResponse:
        explained = None
        if decision:
            authorise(who, Resource.decision, Op.read)
            explained = service.explain(decision)
            authorise(who, Resource.decision, Op.read, str(explained["inputs"].get("agency", "")))
        return law_page(request, who, division, on, explained)

    def law_page(
        request: Request, who: Principal | None, division: str | None, on: date | None, explained: dict[str, Any] | None
    ) -> HTMLResponse:
        library = default_library()
        divisions = sorted({j.division.id: j.name for j in library.jurisdictions.values()}.items())
        chosen = parse_division(division).id if division else own_division(who, divisions)
        day = on or date.today()
        return render(
            request,
            "law.html",
            who,
            divisions=divisions,
            # a decision is an agency's: the United States alone is not one (its choice answered 422)
            agencies=[(d, name) for d, name in divisions if parse_division(d).state],
            division=chosen,
            on=day.isoformat(),
            view=in_force(library, parse_division(chosen), day),
            explained=explained,
        )

    @app.post("/law", response_class=HTMLResponse, tags=["web"], summary="Run a decision from the law browser form")
    async def law_browser_decide(
        request: Request,
        who: Caller,
        division: Annotated[str, Form()],
        on: Annotated[date, Form()],
        form: Annotated[str, Form()],
        warrant: Annotated[str, Form()],
        actions: Annotated[list[str], Form()],
        felony_conviction: Annotated[bool, Form()] = False,
        pending_felony: Annotated[bool, Form()] = False,
        idempotency_key: IdemField = None,
    ) -> HTMLResponse:
        """The decision is shown on the page that asked for it: anyone may run the law engine, but
        not everyone may read the decision log (an analyst redirected to the logged decision was
        refused the answer to their own question). A reload sends the form's key again and is shown
        the same decision, not logged twice."""
        authorise(who, Resource.decision, Op.create)
        assert who is not None
        convictions = [{"offense": "felony conviction", "level": "felony"}] if felony_conviction else []
        pending = [{"offense": "felony charge", "level": "felony"}] if pending_felony else []
        document = {
            "agency": division,
            "on": on.isoformat(),
            # issued on the day asked about: a form outside its period of use is then refused as such,
            # where the form had no field for the date and every such decision came out undetermined
            "request": {"form": form, "actions": actions, "warrant": warrant, "issued_on": on.isoformat()},
            "person": {"convictions": convictions, "pending_charges": pending},
        }
        made = await once(request, idempotency_key, lambda: {"id": acting(who).decide(document)["decision_id"]})
        explained = await run_in_threadpool(service.explain, made["id"])
        return law_page(request, who, division, on, explained)

    # --- grant conditions --------------------------------------------------------------------

    @app.get(
        "/grants",
        response_class=HTMLResponse,
        tags=["web"],
        summary="Federal grant conditions checked against a jurisdiction's law",
    )
    def grants(
        request: Request, who: Caller, division: Division | None = None, fiscal_year: int | None = None
    ) -> HTMLResponse:
        """Public, as `/grants/check` is: what a grantee's law says of each condition, and the rulings."""
        library = default_library()
        divisions = sorted(
            {
                j.division.id: j.name for j in library.jurisdictions.values() if j.division.level is not Level.federal
            }.items()
        )
        chosen = parse_division(division).id if division else own_division(who, divisions)
        years = fiscal_years()
        year = fiscal_year or years[-1]
        checked = check_grants(library, parse_division(chosen), year)
        return render(
            request,
            "grants.html",
            who,
            divisions=divisions,
            division=chosen,
            years=years,
            fiscal_year=year,
            checked=checked,
        )

    # --- statistics --------------------------------------------------------------------------

    @app.get("/stats", response_class=HTMLResponse, tags=["web"], summary="Statistics dashboard")
    def stats(request: Request, who: Caller, agency: str | None = None) -> HTMLResponse:
        authorise(who, Resource.stats, Op.read)
        division = parse_division(agency).id if agency else None
        with service.unit() as u:
            figures = outcomes(u.session, division)
            # The agencies with bookings in this store, not every jurisdiction of the law library,
            # each of which without a booking answered 404 (found by a review).
            held = u.session.scalars(select(BookingRow.agency).distinct()).all()
        charts = [(name, (CHART_DIR / f"{name}.png").exists()) for name in CHARTS]
        library = default_library()
        divisions = sorted(((d, library.name_of(d)) for d in held), key=lambda pair: pair[1])
        return render(
            request, "stats.html", who, figures=figures, charts=charts, divisions=divisions, agency=division or ""
        )

    @app.get(
        "/stats/charts/{name}.png",
        tags=["stats"],
        summary="A chart drawn by `custody stats chart` (public data)",
        response_class=Response,
        responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
    )
    def chart(name: str) -> Response:
        path = CHART_DIR / f"{name}.png"
        if name not in CHARTS or not path.exists():
            raise NotFound(
                f"no chart '{name}' drawn here; draw it with `custody stats chart {name} --out docs/charts/{name}.png`"
                f" (charts: {', '.join(CHARTS)})"
            )
        return FileResponse(path, media_type="image/png")

    # --- audit -------------------------------------------------------------------------------

    @app.get("/audit", response_class=HTMLResponse, tags=["web"], summary="Audit log viewer with chain verification")
    def audit(
        request: Request,
        who: Caller,
        chain: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> HTMLResponse:
        scope = authorise(who, Resource.audit, Op.read)
        assert who is not None
        reports = [r for r in service.verify_audit() if scope == Scope.any or r.chain == who.agency]
        total, entries = queries.audit_entries(service, who, scope, chain, limit, offset)
        chains = [c for c in queries.audit_chains(service) if scope == Scope.any or c == who.agency]
        return render(
            request,
            "audit.html",
            who,
            reports=reports,
            entries=entries,
            total=total,
            limit=limit,
            offset=offset,
            chains=chains,
            chain=chain or "",
        )
