"""Reads scoped to the caller's jurisdiction, through the facade's units of work.

The facade's lists are of everything; these filter them to an agency or a federal area in SQL,
and apply the law-derived withholding to what federal users see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from custody.access.policy import Scope
from custody.access.roles import Principal, Role
from custody.access.withholding import Sharing, as_federal_side_sees, redact, sharing_for
from custody.booking import service as booking_service
from custody.booking.model import CustodyState
from custody.domain.errors import Conflict, RefusedByLaw
from custody.domain.events import FEDERAL
from custody.law.loader import default_library
from custody.release.model import HoldState
from custody.requests import service as request_service
from custody.service import (
    BOOKINGS_ORDER,
    Custody,
    booking_summary,
    event_summary,
    hold_summary,
    request_summary,
)
from custody.store.models import AuditEntryRow, BookingRow, EventRow, FederalRequestRow, HoldRow
from custody.store.paging import page

Page = tuple[int, list[dict[str, Any]]]


def within(column: InstrumentedAttribute[str], who: Principal, scope: Scope) -> ColumnElement[bool]:
    """SQL for "this division column is inside the caller's jurisdiction"."""
    if scope == Scope.any:
        return true()
    if scope == Scope.agency:
        return column == who.agency
    if not who.area:
        return false()
    return or_(*[or_(column == a, column.like(a + "/%")) for a in who.area])


def booking_places(service: Custody, booking_id: str) -> tuple[str, str]:
    """The agency holding the person now, and the one that booked them."""
    with service.read() as u:
        row = booking_service.get(u, booking_id)
        return row.agency, row.booking_agency


def request_place(service: Custody, request_id: str) -> str:
    with service.read() as u:
        return request_service.get(u, request_id).agency


def _sharing(service: Custody, booking_id: str) -> Sharing:
    with service.read() as u:
        booking = booking_service.get(u, booking_id)
        return sharing_for(booking, _requests_of(u.session, [booking_id]).get(booking_id, []))


@contextmanager
def refusals_as_seen(service: Custody, who: Principal, booking_id: str | Callable[[], str]) -> Iterator[None]:
    """A refusal told to a federal officer, about a person whose custody status the holding
    agency's law withholds from them, says only that: its reason ("booking … is released", "the
    hold ended at …", "request … is closed") would tell the status itself (found by a review, a
    hand-over refused as "released" while every view withheld it). ``booking_id`` may be given as
    a function, for a refusal about a request."""
    try:
        yield
    except (Conflict, RefusedByLaw):
        if who.role != Role.federal_officer:
            raise
        sharing = _sharing(service, booking_id if isinstance(booking_id, str) else booking_id())
        ruling = sharing.rulings["custody_status"]
        if ruling.shared:
            raise
        agency = default_library().name_of(sharing.agency)
        raise Conflict(
            f"{agency} cannot do this now, and the reason would tell this person's custody status, which the "
            f"agency's law withholds from federal officers ({'; '.join(ruling.citations)}): ask the agency"
        ) from None


def request_booking(service: Custody, request_id: str) -> str:
    with service.read() as u:
        return request_service.get(u, request_id).booking_id


def federal_booking(service: Custody, booking_id: str, view: dict[str, Any]) -> dict[str, Any]:
    """A booking view as a federal officer may see it: the local timeline is replaced by the messages
    the federal side received about the booking, and law-withheld fields are null."""
    sharing = _sharing(service, booking_id)
    shown = {k: v for k, v in view.items() if k != "timeline"}
    shown["messages"] = [e for e in view.get("timeline", []) if e["to_party"] == FEDERAL]
    return redact(shown, sharing)


def list_bookings(service: Custody, who: Principal, scope: Scope, limit: int, offset: int) -> Page:
    with service.unit() as u:
        condition = or_(within(BookingRow.agency, who, scope), within(BookingRow.booking_agency, who, scope))
        total, rows = page(u.session, select(BookingRow).where(condition), limit, offset, *BOOKINGS_ORDER)
        if who.role != Role.federal_officer:
            return total, [booking_summary(b) for b in rows]
        requests = _requests_of(u.session, [b.id for b in rows])
        return total, [redact(booking_summary(b), sharing_for(b, requests.get(b.id, []))) for b in rows]


def _requests_of(session: Any, booking_ids: list[str]) -> dict[str, list[FederalRequestRow]]:
    out: dict[str, list[FederalRequestRow]] = {}
    for r in session.scalars(select(FederalRequestRow).where(FederalRequestRow.booking_id.in_(booking_ids))):
        out.setdefault(r.booking_id, []).append(r)
    return out


def list_requests(
    service: Custody, who: Principal, scope: Scope, limit: int, offset: int, state: str | None = None
) -> Page:
    if who.role != Role.federal_officer:
        return service.list_requests(limit, offset, state, within(FederalRequestRow.agency, who, scope))
    # The filter matches the states a federal officer sees (withholding.as_federal_side_sees).
    closed, notified = FederalRequestRow.state == "closed", _notice_honored_sql()
    shown_as = {
        "closed": and_(closed, notified),
        "responded": or_(FederalRequestRow.state == "responded", and_(closed, not_(notified))),
    }
    state_is = true() if state is None else shown_as.get(state, FederalRequestRow.state == state)
    total, items = service.list_requests(
        limit, offset, None, and_(within(FederalRequestRow.agency, who, scope), state_is)
    )
    return total, [as_federal_side_sees(r) for r in items]


def _notice_honored_sql() -> ColumnElement[bool]:
    """The request's answer honored a notice of release (the federal side was told of it); false, not
    null, where the answer has no notice in it."""
    answer: ColumnElement[str] = func.coalesce(
        FederalRequestRow.response["answers"]["notify"]["answer"].as_string(), ""
    )
    return answer == "honor"


def federal_messages(service: Custody, who: Principal, scope: Scope, limit: int, offset: int) -> Page:
    """Messages sent to the federal side about bookings and requests in the caller's area."""
    with service.unit() as u:
        bookings = select(BookingRow.id).where(
            or_(within(BookingRow.agency, who, scope), within(BookingRow.booking_agency, who, scope))
        )
        requests = select(FederalRequestRow.id).where(within(FederalRequestRow.agency, who, scope))
        query = select(EventRow).where(
            EventRow.to_party == FEDERAL, or_(EventRow.aggregate_id.in_(bookings), EventRow.aggregate_id.in_(requests))
        )
        total, rows = page(u.session, query, limit, offset, EventRow.seq)
        return total, [event_summary(e) for e in rows]


def hits(service: Custody, who: Principal, scope: Scope, limit: int, offset: int) -> Page:
    """Identification hits: bookings in the caller's area that matched an identity in the federal
    repository, newest first, with the requests already issued for each."""
    with service.unit() as u:
        query = (
            select(EventRow, BookingRow)
            .join(BookingRow, BookingRow.id == EventRow.aggregate_id)
            .where(
                EventRow.type == "IdentityMatched",
                or_(within(BookingRow.agency, who, scope), within(BookingRow.booking_agency, who, scope)),
            )
        )
        total, rows = page(u.session, query, limit, offset, EventRow.seq.desc(), entities=False)
        requests = _requests_of(u.session, [b.id for _, b in rows])
        items = []
        for event, booking in rows:
            mine = requests.get(booking.id, [])
            summary = booking_summary(booking)
            if who.role == Role.federal_officer:
                summary = redact(summary, sharing_for(booking, mine))
            items.append(
                {
                    "booking": summary,
                    "identity_id": event.data["identity_id"],
                    "matched_on": event.data["matched_on"],
                    "federal_record": event.data.get("federal_record"),
                    "matched_at": event.occurred_at.isoformat(),
                    "requests": [
                        as_federal_side_sees(request_summary(r))
                        if who.role == Role.federal_officer
                        else request_summary(r)
                        for r in sorted(mine, key=lambda r: r.issued_at)
                    ],
                }
            )
        return total, items


OPEN_STATES = (CustodyState.in_custody, CustodyState.release_scheduled, CustodyState.held_on_detainer)
NOTICE_EVENTS = ("ReleaseNoticeSent", "ReleaseNoticeWithheld")


def release_queue(service: Custody, who: Principal, scope: Scope, limit: int, offset: int, left: bool = False) -> Page:
    """Who is in custody or held, soonest due out first (or, with ``left``, who left custody last):
    holds with their expiry, requests and the notices sent or withheld, each with its reason."""
    closed = (CustodyState.released, CustodyState.transferred)
    with service.unit() as u:
        query = select(BookingRow).where(
            within(BookingRow.agency, who, scope),
            BookingRow.state.in_([s.value for s in (closed if left else OPEN_STATES)]),
        )
        # Due out: an active hold's end, else the planned release; those with neither come last, on
        # either store (found by a review: a hold ending in an hour was listed after people with
        # nothing planned, who came first on SQLite and last on PostgreSQL).
        hold_ends = (
            select(HoldRow.expires_at)
            .where(HoldRow.booking_id == BookingRow.id, HoldRow.state == HoldState.active)
            .correlate(BookingRow)
            .scalar_subquery()
        )
        due = func.coalesce(hold_ends, BookingRow.release_planned_at)
        order = (
            (BookingRow.left_custody_at.desc(), BookingRow.id)
            if left
            else (due.asc().nulls_last(), BookingRow.booked_at, BookingRow.id)
        )
        total, rows = page(u.session, query, limit, offset, *order)
        ids = [b.id for b in rows]
        requests = _requests_of(u.session, ids)
        holds: dict[str, list[dict[str, Any]]] = {}
        for h in u.session.scalars(select(HoldRow).where(HoldRow.booking_id.in_(ids))):
            holds.setdefault(h.booking_id, []).append(hold_summary(h))
        notices: dict[str, list[dict[str, Any]]] = {}
        for e in u.session.scalars(
            select(EventRow)
            .where(EventRow.aggregate_id.in_(ids), EventRow.type.in_(NOTICE_EVENTS))
            .order_by(EventRow.seq)
        ):
            notices.setdefault(e.aggregate_id, []).append(event_summary(e))
        items = [
            {
                **booking_summary(b),
                "release_planned_at": b.release_planned_at.isoformat() if b.release_planned_at else None,
                "holds": holds.get(b.id, []),
                "requests": [request_summary(r) for r in requests.get(b.id, [])],
                "notices": notices.get(b.id, []),
            }
            for b in rows
        ]
        return total, items


def audit_entries(service: Custody, who: Principal, scope: Scope, chain: str | None, limit: int, offset: int) -> Page:
    """The audit log, newest first; a jail supervisor reads the chain of their own agency only."""
    with service.unit() as u:
        query = select(AuditEntryRow)
        if scope == Scope.agency:
            query = query.where(AuditEntryRow.chain == who.agency)
        if chain:
            query = query.where(AuditEntryRow.chain == chain)
        total, rows = page(
            u.session,
            query,
            limit,
            offset,
            AuditEntryRow.recorded_at.desc(),
            AuditEntryRow.chain,
            AuditEntryRow.seq.desc(),
        )
        return total, [
            {
                "chain": r.chain,
                "seq": r.seq,
                "recorded_at": r.recorded_at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "subject": r.subject,
                "data": r.data,
                "hash": r.hash,
                "prev_hash": r.prev_hash,
            }
            for r in rows
        ]


def audit_chains(service: Custody) -> list[str]:
    with service.unit() as u:
        return list(u.session.scalars(select(AuditEntryRow.chain).distinct().order_by(AuditEntryRow.chain)))
