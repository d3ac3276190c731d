"""Outcomes of custody's own process, read from the store: what was asked, what was answered, what
happened on release, and whether released people were booked again.

These count only what passed through this custody store, so they describe its users' cases, not an
agency's whole jail; re-bookings are matched on the person fingerprints (or the repository's
identifiers) tied each booking to, so people never fingerprinted are not followed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from custody.booking.model import CustodyState
from custody.domain.errors import NotFound
from custody.requests.model import RequestState
from custody.store.models import BookingRow, FederalIdentityRow, FederalRequestRow, FederalSubmissionRow

WINDOWS = (30, 90, 365)
CHUNK = 500  # identities a query names at once (a store's limit on bound parameters is far above it)
# A request is still in force at release unless it was withdrawn or already carried out.
NOT_IN_FORCE = (RequestState.cancelled.value, RequestState.fulfilled.value)


class Booked(NamedTuple):
    """A booking as the outcomes see it: where, in what state, and who the person is."""

    id: str
    agency: str
    state: str
    person: str | None
    booked_at: datetime
    left_custody_at: datetime | None


def process_bookings(
    session: Session, agency: str | None = None, people: Collection[str] | None = None
) -> Iterator[Booked]:
    """The bookings (of one agency, or all; only those of ``people`` when given), each with the
    person fingerprints or the repository's identifiers tied it to: the identity the agency was
    answered with or, where the answer was "no hit", the one the federal repository kept the
    booking's prints under and linked the person's next arrest to (docs/fingerprints.md, "Retention";
    found by a review: such a re-arrest was not counted). An identity merged since into another
    stands for that one. Read in batches, so a national store is never held at once."""
    merged: dict[str, str] = {
        i: into
        for i, into in session.execute(
            select(FederalIdentityRow.id, FederalIdentityRow.merged_into).where(
                FederalIdentityRow.merged_into.is_not(None)
            )
        )
        if into is not None
    }

    def now_known_as(identity: str | None) -> str | None:
        seen = set()
        while identity in merged and identity not in seen:
            seen.add(identity)
            identity = merged[identity]
        return identity

    query = select(
        BookingRow.id,
        BookingRow.agency,
        BookingRow.state,
        func.coalesce(BookingRow.identity_id, FederalSubmissionRow.identity_id),
        BookingRow.booked_at,
        BookingRow.left_custody_at,
    ).outerjoin(FederalSubmissionRow, FederalSubmissionRow.booking_id == BookingRow.id)
    if agency:
        query = query.where(BookingRow.agency == agency)
    queries = [query]
    if people is not None:
        # the identities that stand for these people: their own and those merged into them since
        wanted = sorted({*people, *(i for i in merged if now_known_as(i) in people)})
        queries = [
            query.where(
                or_(
                    BookingRow.identity_id.in_(chunk),
                    and_(BookingRow.identity_id.is_(None), FederalSubmissionRow.identity_id.in_(chunk)),
                )
            )
            for chunk in (wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK))
        ]
    for each in queries:
        for row in session.execute(each.execution_options(yield_per=10_000)):
            yield Booked(row[0], row[1], row[2], now_known_as(row[3]), row[4], row[5])


def outcomes(session: Session, agency: str | None = None) -> dict[str, Any]:
    if agency and session.scalar(select(BookingRow.id).where(BookingRow.agency == agency).limit(1)) is None:
        # Found by a review: a misspelt agency answered with zeros, which read as an agency with none.
        raise NotFound(
            f"no booking of {agency} is in this store: check the division id (`custody bookings` lists agencies' "
            "bookings), or leave --agency out for every agency"
        )
    requests_q = select(FederalRequestRow)
    if agency:
        requests_q = requests_q.where(FederalRequestRow.agency == agency)
    requests = list(session.scalars(requests_q))
    answers: Counter[tuple[str, str]] = Counter()
    for request in requests:
        for action, answer in (request.response or {}).get("answers", {}).items():
            answers[(action, answer["answer"])] += 1
    released = [
        b
        for b in process_bookings(session, agency)
        if b.state == CustodyState.released.value and b.left_custody_at is not None
    ]
    horizon = session.scalar(select(func.max(BookingRow.booked_at)))
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
        "rebooked_within_days": _rebooked(session, released, horizon),
        "releases_followed_for_days": _followed(released, horizon),
        "caveats": [
            "a re-booking rate within N days divides rebooked_within_days[N] by releases_followed_for_days[N]: "
            "a release less than N days before the last booking this store holds cannot show a re-booking "
            "within N days yet (dividing by all releases understates the rate)",
            "counts cover only cases recorded in this custody store",
            "a request counts as honored (declined) when any of its actions was honored (declined)",
            "re-bookings are matched on the person fingerprints or the federal repository's identifiers tied "
            'each booking to, in any agency in this store (a booking answered "no hit" counts through the '
            "prints the repository kept); people never fingerprinted are not followed",
        ],
    }


def _any(request: FederalRequestRow, answer: str) -> bool:
    return any(a["answer"] == answer for a in (request.response or {}).get("answers", {}).values())


def _released_with_request(session: Session, released: list[Booked]) -> int:
    ids = {b.id for b in released}
    if not ids:
        return 0
    rows = session.scalars(
        select(FederalRequestRow.booking_id)
        .where(FederalRequestRow.booking_id.in_(ids))
        .where(FederalRequestRow.state.not_in(NOT_IN_FORCE))
    )
    return len(set(rows))


def _followed_for(booking: Booked, days: int, horizon: datetime | None) -> bool:
    """Whether the store would show a re-booking within ``days`` of this release: the last booking it
    holds is at least that long after (found by a review: re-bookings were counted over every release,
    recent ones included, and a rate built on them came out too low, or over a count of none)."""
    left = booking.left_custody_at
    return horizon is not None and left is not None and left + timedelta(days=days) <= horizon


def _followed(released: list[Booked], horizon: datetime | None) -> dict[str, int]:
    """Per window, the releases followed that long: the denominator of a re-booking rate."""
    return {str(days): sum(_followed_for(b, days, horizon) for b in released) for days in WINDOWS}


def _rebooked(session: Session, released: list[Booked], horizon: datetime | None) -> dict[str, int]:
    """Per window, the releases followed that long whose person was booked again within it: the
    numerator, a part of ``_followed``'s count."""
    later: dict[str, list[Booked]] = {}
    for booked in process_bookings(session, people={b.person for b in released if b.person}):
        later.setdefault(str(booked.person), []).append(booked)
    counts = dict.fromkeys((str(d) for d in WINDOWS), 0)
    for booking in released:
        if not booking.person or booking.left_custody_at is None:
            continue
        gaps = [
            other.booked_at - booking.left_custody_at
            for other in later.get(booking.person, [])
            if other.id != booking.id and other.booked_at >= booking.left_custody_at
        ]
        for days in WINDOWS:
            counts[str(days)] += _followed_for(booking, days, horizon) and any(
                gap <= timedelta(days=days) for gap in gaps
            )
    return counts
