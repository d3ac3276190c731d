"""Outcomes of custody's own process, read from the store: what was asked, what was answered, what
happened on release, and whether released people were booked again.

These count only what passed through this custody store, so they describe its users' cases, not an
agency's whole jail; re-bookings are matched on the federal identity, so people with no fingerprint
match are not followed.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody.booking.model import CustodyState
from custody.requests.model import RequestState
from custody.store.models import BookingRow, FederalRequestRow

WINDOWS = (30, 90, 365)
# A request is still in force at release unless it was withdrawn or already carried out.
NOT_IN_FORCE = (RequestState.cancelled.value, RequestState.fulfilled.value)


def outcomes(session: Session, agency: str | None = None) -> dict[str, Any]:
    requests_q = select(FederalRequestRow)
    bookings_q = select(BookingRow)
    if agency:
        requests_q = requests_q.where(FederalRequestRow.agency == agency)
        bookings_q = bookings_q.where(BookingRow.agency == agency)
    requests = list(session.scalars(requests_q))
    bookings = list(session.scalars(bookings_q))
    answers: Counter[tuple[str, str]] = Counter()
    for request in requests:
        for action, answer in (request.response or {}).get("answers", {}).items():
            answers[(action, answer["answer"])] += 1
    released = [b for b in bookings if b.state == CustodyState.released.value and b.left_custody_at is not None]
    return {
        "agency": agency or "all agencies in this store",
        "requests": {
            "received": sum(r.state != RequestState.issued.value for r in requests),
            "honored": sum(_any(r, "honor") for r in requests),
            "declined": sum(_any(r, "decline") for r in requests),
            "lapsed": sum(r.state == RequestState.lapsed.value for r in requests),
            "cancelled": sum(r.state == RequestState.cancelled.value for r in requests),
            "by_action": {
                action: {"honored": answers[(action, "honor")], "declined": answers[(action, "decline")]}
                for action in sorted({a for a, _ in answers})
            },
        },
        "releases": len(released),
        "releases_with_request_in_force": _released_with_request(session, released),
        "rebooked_within_days": _rebooked(session, released),
        "caveats": [
            "counts cover only cases recorded in this custody store",
            "a request counts as honored (declined) when any of its actions was honored (declined)",
            "re-bookings are matched on the federal identity found at booking, in any agency in this store; "
            "people without a fingerprint match are not followed",
        ],
    }


def _any(request: FederalRequestRow, answer: str) -> bool:
    return any(a["answer"] == answer for a in (request.response or {}).get("answers", {}).values())


def _released_with_request(session: Session, released: list[BookingRow]) -> int:
    ids = {b.id for b in released}
    if not ids:
        return 0
    rows = session.scalars(
        select(FederalRequestRow.booking_id)
        .where(FederalRequestRow.booking_id.in_(ids))
        .where(FederalRequestRow.state.not_in(NOT_IN_FORCE))
    )
    return len(set(rows))


def _rebooked(session: Session, released: list[BookingRow]) -> dict[str, int]:
    identities = {b.identity_id for b in released if b.identity_id}
    later: dict[str, list[BookingRow]] = {}
    if identities:
        for row in session.scalars(select(BookingRow).where(BookingRow.identity_id.in_(identities))):
            later.setdefault(str(row.identity_id), []).append(row)
    counts = dict.fromkeys((str(d) for d in WINDOWS), 0)
    for booking in released:
        if not booking.identity_id or booking.left_custody_at is None:
            continue
        gaps = [
            other.booked_at - booking.left_custody_at
            for other in later.get(booking.identity_id, [])
            if other.id != booking.id and other.booked_at >= booking.left_custody_at
        ]
        for days in WINDOWS:
            counts[str(days)] += any(gap <= timedelta(days=days) for gap in gaps)
    return counts
