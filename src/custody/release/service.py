"""Release, holds and transfers: exactly the notices and timers the law decision allows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from custody.booking import service as bookings
from custody.booking.commands import ScheduleIn
from custody.booking.model import CustodyState
from custody.domain.divisions import local_moment, local_zone, parse_division
from custody.domain.errors import Conflict, CustodyError, InvalidInput, RefusedByLaw
from custody.domain.events import FEDERAL, Event
from custody.law.model import Action, HoldClock, Status
from custody.release.clock import hold_expires_at
from custody.release.commands import ReleaseIn, TransferIn
from custody.release.model import HOLD, HoldState
from custody.requests import service as requests
from custody.requests.commands import Answer
from custody.requests.model import RequestState
from custody.store import db
from custody.store.models import BookingRow, FederalRequestRow, HoldRow
from custody.store.unit import CHUNK, Unit, new_id

log = logging.getLogger("custody.release")
# A hold's timer runs every poll interval (0.2 s by default); later than this, someone must be told.
LATE = timedelta(minutes=5)
BOOKINGS_BY_ID = select(BookingRow).where(BookingRow.id.in_(bindparam("ids", expanding=True)))  # built once


HoldTerms = tuple[float, HoldClock]  # the hours of a hold and the clock that counts them


def _answered(open_requests: list[FederalRequestRow]) -> list[FederalRequestRow]:
    """The requests the agency answered. One it received and has not answered must be answered
    first, so that the release follows the answer; one still on its way (``issued``) is not the
    agency's to answer yet and cannot keep a person in jail (found by a review: with no worker
    running, a request in transit made the booking impossible to release)."""
    unanswered = [r.id for r in open_requests if r.state in (RequestState.received, RequestState.decided)]
    if unanswered:
        raise Conflict(
            f"request {unanswered[0]} has not been answered; record the agency's response first "
            f"(`custody respond {unanswered[0]}` or POST /federal/requests/{unanswered[0]}/response)"
        )
    return [r for r in open_requests if r.state == RequestState.responded]


def _settle(open_requests: list[FederalRequestRow], event: str) -> None:
    """The person has left: the requests the agency holds end with them. One still on its way is
    left as it is: when it arrives, the agency's worker refuses it as arriving after the person left
    (a dead letter the jail's staff see, requests.receive), and the federal side sees it still
    issued, which tells it nothing the agency's law may withhold. Firing ``close`` on it stopped
    every hold timer of every agency (found by a review)."""
    for request in open_requests:
        if request.state != RequestState.issued:
            requests.transition(request, event)


def _notices(
    unit: Unit, booking: BookingRow, open_requests: list[FederalRequestRow], release_at: datetime, occurred_at: datetime
) -> None:
    """Send a release notice where the answer honored it; record why it was withheld elsewhere."""
    for request in open_requests:
        if Action.notify.value not in request.actions:
            continue
        response: dict[str, Any] = dict(request.response or {})
        if requests.honored(request, Action.notify):
            unit.emit(
                Event(
                    "ReleaseNoticeSent",
                    "booking",
                    booking.id,
                    occurred_at,
                    {
                        "booking_id": booking.id,
                        "request_id": request.id,
                        "agency": booking.agency,
                        "release_at": release_at.isoformat(),
                        # The I-247A asks for notice 48 hours ahead where possible: say how much was given.
                        "advance_hours": round((release_at - occurred_at).total_seconds() / 3600, 2),
                    },
                    to_party=FEDERAL,
                ),
                booking.agency,
            )
        elif not response.get("notice_withheld"):
            answer = response["answers"][Action.notify.value]
            unit.emit(
                Event(
                    "ReleaseNoticeWithheld",
                    "booking",
                    booking.id,
                    occurred_at,
                    {"request_id": request.id, "citations": answer["citations"], "reason": answer["reason"]},
                ),
                booking.agency,
            )
            response["notice_withheld"] = True
            request.response = response


def schedule(unit: Unit, booking: BookingRow, submission: ScheduleIn) -> None:
    if submission.planned_at < booking.booked_at:
        raise InvalidInput("planned_at is before the booking")
    occurred = submission.at or unit.clock.now()
    if submission.planned_at < occurred:
        # Found by a review: an "advance" notice went out 23 hours after the release it announced.
        raise InvalidInput(
            f"planned_at {local_moment(submission.planned_at, booking.agency)} is before the schedule's own time "
            f"({local_moment(occurred, booking.agency)}); a release already due is recorded as release eligibility "
            f"(`custody release {booking.id}` or POST /bookings/{booking.id}/release-eligibility)"
        )
    open_requests = _answered(requests.active_for(unit, booking.id))
    bookings.transition(unit, booking, "schedule_release")
    booking.release_planned_at = submission.planned_at
    bookings.not_ahead(occurred, unit.clock.now(), "the schedule's time", booking.agency)
    requests.recheck(unit, booking, open_requests, occurred)
    unit.emit(
        Event("ReleaseScheduled", "booking", booking.id, occurred, {"planned_at": submission.planned_at.isoformat()}),
        booking.agency,
    )
    _notices(unit, booking, open_requests, submission.planned_at, occurred)


def answered(unit: Unit, request: FederalRequestRow, at: datetime) -> None:
    """An answer recorded while a release is planned: the notice it honors goes out now, for the
    planned time (found by a review: a detainer that came after the release was scheduled, notice
    honored, was never told of the release before it happened)."""
    booking = bookings.get(unit, request.booking_id)
    planned = booking.release_planned_at
    if booking.state != CustodyState.release_scheduled or planned is None or planned < at:
        return  # nothing planned, or a time already past: the notice goes with release eligibility
    # The answer was given under the law of the request's day; the notice goes under today's (found
    # by a review: New Jersey's directive forbade the notice sent).
    requests.recheck(unit, booking, [request], at)
    _notices(unit, booking, [request], planned, at)


def release_eligible(unit: Unit, booking: BookingRow, submission: ReleaseIn) -> None:
    """The moment the person would otherwise go free: hold, hand over, or release."""
    _release_eligible(unit, booking, submission, requests.active_for(unit, booking.id))


def release_eligible_all(unit: Unit, arrivals: Sequence[tuple[str, ReleaseIn]]) -> list[BookingRow | CustodyError]:
    """Many people reach release eligibility at once (a jail's end-of-shift feed): for each, the
    booking as it now stands or why that one was refused. The bookings and their open requests are
    read with one query each, then each is decided alone exactly as ``release_eligible`` decides it.
    Without an open request every refusal comes before the first write, so only a booking with one
    needs a savepoint of its own."""
    ids = list(dict.fromkeys(booking_id for booking_id, _ in arrivals))
    found: dict[str, BookingRow] = {}
    for i in range(0, len(ids), CHUNK):
        found.update((b.id, b) for b in unit.session.scalars(BOOKINGS_BY_ID, {"ids": ids[i : i + CHUNK]}))
    open_requests = requests.active_for_all(unit, ids)
    outcomes: list[BookingRow | CustodyError] = []
    for booking_id, submission in arrivals:
        try:
            booking = found.get(booking_id) or bookings.get(unit, booking_id)
            if booking.id in open_requests:
                with unit.savepoint():
                    _release_eligible(unit, booking, submission, open_requests[booking.id])
            else:
                _release_eligible(unit, booking, submission, [])
        except CustodyError as refusal:
            outcomes.append(refusal)
        else:
            outcomes.append(booking)
    return outcomes


def _release_eligible(
    unit: Unit, booking: BookingRow, submission: ReleaseIn, open_requests: list[FederalRequestRow]
) -> None:
    if submission.at < booking.booked_at:
        raise InvalidInput("release eligibility cannot come before the booking")
    bookings.not_ahead(submission.at, unit.clock.now(), "release eligibility's time", booking.agency)
    # A request issued after the moment the person was due out cannot have kept them (an eligibility
    # recorded late): a hold on it would count from before it existed (found by a review).
    answered = [r for r in _answered(open_requests) if r.issued_at <= submission.at]
    if booking.state not in (CustodyState.in_custody, CustodyState.release_scheduled):
        raise Conflict(f"booking {booking.id} is {booking.state}; release eligibility was already recorded")
    requests.recheck(unit, booking, answered, submission.at)
    booking.release_reason = submission.reason.value
    booking.release_eligible_at = submission.at
    unit.emit(
        Event("ReleaseEligibilityReached", "booking", booking.id, submission.at, {"reason": submission.reason.value}),
        booking.agency,
    )
    if booking.release_planned_at != submission.at:
        # No notice yet, or one that gave another time (bail posted a day early): the federal side
        # is told when the person is actually due out (found by a review: the notice said the 3rd,
        # the person left on the 2nd, and nothing corrected it).
        _notices(unit, booking, answered, submission.at, submission.at)
    handover = [r for r in answered if hands_over(r) and _in_effect(r, submission.at)]
    if submission.federal_officers_present and handover:
        _transfer(unit, booking, handover[0], TransferIn(at=submission.at, officer=submission.federal_officers_present))
        return
    holding = _holding(answered, submission.at)
    if holding is not None:
        request, terms = holding
        bookings.transition(unit, booking, "start_hold")
        _hold(unit, booking, request, submission.at, *terms, occurred=submission.at)
        return
    officers = submission.federal_officers_present
    unserved = [
        r
        for r in answered
        if r.form == "I-247A" and r.served_at is None and (_hold_terms(r) or (officers and hands_over(r)))
    ]
    if unserved and not submission.detainer_not_served:
        # A guard, not the law's last word: service forgotten in the record is the likelier slip, and
        # a release cannot be taken back. Found by a review: the advice was only "serve it first", and
        # serving now, then recording eligibility now, held the person on a detainer that had not been
        # in effect when they were due out.
        at = local_moment(submission.at, booking.agency)
        # Each way named as each channel has it (found by a review: the web page was told of flags).
        raise RefusedByLaw(
            f"the I-247A of request {unserved[0].id} has no record of service on the person, and it takes "
            f"effect only once served (DHS Form I-247A; ICE guidance). If a copy was served by {at}, record "
            f"when (the detainer inbox's service form; `custody serve-copy {unserved[0].id} --at TIME`), then "
            f"record release eligibility again at {at}; if none was, the detainer did not take effect and the "
            "person goes free: record release eligibility saying so (the release page's box 'An I-247A on "
            'record was never served\'; `--detainer-not-served`; "detainer_not_served": true)'
        )
    for request in unserved:
        unit.emit(
            Event(
                "DetainerNotInEffect",
                "booking",
                booking.id,
                submission.at,
                {"request_id": request.id, "reason": "the I-247A was not served on the person (DHS Form I-247A)"},
            ),
            booking.agency,
        )
    _release(unit, booking, submission.at, "release", submission.reason.value, open_requests, "close")


def _holding(answered: list[FederalRequestRow], at: datetime) -> tuple[FederalRequestRow, HoldTerms] | None:
    """The first request, oldest first, whose honored hold is in effect at ``at``, with its terms:
    answered, issued by then and, for an I-247A, served by then (it takes effect only once served).
    One rule for a hold begun at release and one carried on when another request is cancelled (a
    review found the two written apart, each wrong in one case)."""
    for request in answered:
        terms = _hold_terms(request) if request.state == RequestState.responded else None
        if terms is not None and _in_effect(request, at):
            return request, terms
    return None


def _in_effect(request: FederalRequestRow, at: datetime) -> bool:
    """Issued by ``at`` and, for an I-247A, served by then: it takes effect only once served, for a
    hand-over as for a hold (found by a review: officers present at release took a person whose
    I-247A had never been served)."""
    if request.issued_at > at:
        return False
    return request.form != "I-247A" or (request.served_at is not None and request.served_at <= at)


def hands_over(request: FederalRequestRow) -> bool:
    """Whether the agency's answer lets federal officers take custody: it honored the transfer, or
    the hold (kept so that they may), and did not decline the transfer itself (found by a review: a
    declined transfer was carried out all the same whenever the hold was honored)."""
    transfer = requests.answer_to(request, Action.transfer).get("answer")
    return transfer == Answer.honor or (transfer != Answer.decline and requests.honored(request, Action.hold))


def _hold_terms(request: FederalRequestRow) -> HoldTerms | None:
    """The hours and clock of the hold the agency honored in answer to this request; None where it
    honored none, or none of any length."""
    answer = requests.answer_to(request, Action.hold)
    hours = float(answer.get("max_hours") or 0)
    if answer.get("answer") != "honor" or hours <= 0:
        return None
    return hours, HoldClock(answer["hold_clock"])


def _hold(
    unit: Unit,
    booking: BookingRow,
    request: FederalRequestRow,
    at: datetime,
    hours: float,
    clock: HoldClock,
    occurred: datetime,
    limit: tuple[datetime, dict[str, Any] | None] | None = None,
) -> HoldRow:
    """A hold on this request's answer, counted from ``at`` (when the person would have gone free),
    recorded as of ``occurred``; ``limit``: its end as ``_limit`` gave it, if already worked out."""
    expires, limited_by = limit or _limit(unit, booking, request, at, hours, clock)
    hold = HoldRow(
        id=new_id("hld"),
        booking_id=booking.id,
        request_id=request.id,
        starts_at=at,
        expires_at=expires,
        max_hours=hours,
        hold_clock=clock.value,
        state=HOLD.initial.value,
    )
    unit.session.add(hold)
    unit.emit(
        Event(
            "DetainerHoldStarted",
            "booking",
            booking.id,
            occurred,
            {
                "booking_id": booking.id,
                "request_id": request.id,
                "hold_id": hold.id,
                "expires_at": expires.isoformat(),
                "max_hours": hours,
                "hold_clock": clock.value,
                "agency": booking.agency,
                **({"limited_by": limited_by} if limited_by else {}),
            },
            to_party=FEDERAL,
        ),
        booking.agency,
    )
    return hold


def _limit(
    unit: Unit, booking: BookingRow, request: FederalRequestRow, at: datetime, hours: float, clock: HoldClock
) -> tuple[datetime, dict[str, Any] | None]:
    """When the hold must end, and why if the law in force changes inside it.

    A hold runs under the law of each day it lasts: Illinois's TRUST Act forbids from 28 Aug 2017 to
    "continue to detain" anyone on a detainer alone, so a hold begun on the 27th at the Chicago
    police lockup ends at midnight (found by a review: the hold ran on and the person was handed
    over on the 29th). The law is decided again at each local midnight inside the hold; from the
    first one where it no longer allows the hold (prohibited, or undetermined), the hold ends
    there; where it allows fewer hours or a stricter clock, the hold ends at that shorter limit,
    though never before the midnight that brought it."""
    zone = local_zone(parse_division(booking.agency))
    expires, limited_by = hold_expires_at(at, hours, clock, zone), None
    # From the later of the hold's start and the request's issue: a hold taken over from a cancelled
    # request may count from before this one existed, and no law decides a request before its issue
    # (found by a review: the cancellation was dead-lettered and the withdrawn hold ran on).
    day = max(at, request.issued_at).astimezone(zone).date()
    while (midnight := datetime.combine(day := day + timedelta(days=1), time(0), tzinfo=zone)) < expires:
        inputs, decision = requests.decision_on(unit, request, booking, midnight)
        ruling = decision.to_contract()["actions"][Action.hold.value]
        status = Status(ruling["status"])
        ended = status in (Status.prohibited, Status.undetermined)
        ruled_hours = min(hours, float(ruling.get("max_hours") or hours))
        clocks = [clock, *([HoldClock(ruling["hold_clock"])] if ruling.get("hold_clock") else [])]
        shorter = midnight if ended else hold_expires_at(at, ruled_hours, HoldClock.strictest(clocks) or clock, zone)
        if max(midnight, shorter) >= expires:
            continue
        # Logged, as every decision custody acts on is, and named with the hold (found by a review:
        # the decision that ended a hold left no record to explain it with).
        requests.log_only(unit, request, inputs, decision)
        expires = max(midnight, shorter).astimezone(UTC)
        limited_by = {
            "on": day.isoformat(),
            "status": status.value,
            "citations": ruling["citations"],
            "explanation": ruling["explanation"],
            "decision_id": decision.decision_id,
            "law_revision": decision.law_revision,
        }
        if ended:
            break
    return expires, limited_by


def _end(hold: HoldRow, event: str, at: datetime) -> None:
    hold.state, hold.ended_at = HOLD.fire(HoldState(hold.state), event).value, at


def active_hold(unit: Unit, booking_id: str) -> HoldRow | None:
    return unit.session.scalars(
        select(HoldRow).where(HoldRow.booking_id == booking_id, HoldRow.state == HoldState.active)
    ).first()


def transfer(unit: Unit, booking: BookingRow, submission: TransferIn) -> None:
    """Federal officers take custody: during a hold, or at release where the answer allows it."""
    hold = active_hold(unit, booking.id)
    if hold is None and booking.left_custody_at is not None:
        # Found by a review: the advice was to record release eligibility, which a person already
        # gone cannot have.
        raise Conflict(
            f"booking {booking.id} is {booking.state}: the person left the agency's custody at "
            f"{local_moment(booking.left_custody_at, booking.agency)}, so federal officers cannot take custody here"
        )
    if hold is None:
        raise Conflict(
            f"booking {booking.id} is {booking.state} with no active hold; federal officers can take custody "
            "only during a hold or at the moment of release (record release eligibility with them present)"
        )
    if submission.at > hold.expires_at:
        raise RefusedByLaw(
            f"the hold ended at {local_moment(hold.expires_at, booking.agency)} ({hold.max_hours:g} hours, "
            f"{hold.hold_clock.replace('_', ' ')}); the person must be released, not transferred"
        )
    if submission.at < hold.starts_at:
        raise InvalidInput("the transfer cannot come before the hold started")
    bookings.not_ahead(submission.at, unit.clock.now(), "the hand-over's time", booking.agency)
    if unit.clock.now() - hold.expires_at > LATE:
        log.warning(
            "booking %s: a hand-over dated %s, within the hold's limit (%s), was recorded %s after that limit; "
            "keep the record of when federal officers took custody",
            booking.id,
            submission.at.isoformat(),
            hold.expires_at.isoformat(),
            str(unit.clock.now() - hold.expires_at).split(".")[0],
        )
    request = requests.get(unit, hold.request_id)
    if not hands_over(request):
        declined = requests.answer_to(request, Action.transfer)
        raise RefusedByLaw(
            f"the agency declined the transfer request {request.id} asked for ({declined.get('reason', '')}); "
            f"the hold keeps the person only until {local_moment(hold.expires_at, booking.agency)}, then they are "
            "released"
        )
    _transfer(unit, booking, request, submission)


def _transfer(unit: Unit, booking: BookingRow, request: FederalRequestRow, submission: TransferIn) -> None:
    hold = active_hold(unit, booking.id)
    if hold is not None:
        _end(hold, "hand_over", submission.at)
    bookings.transition(unit, booking, "transfer_to_federal")
    booking.left_custody_at = submission.at
    requests.transition(request, "fulfil")
    unit.emit(
        Event(
            "CustodyTransferred",
            "booking",
            booking.id,
            submission.at,
            {
                "booking_id": booking.id,
                "request_id": request.id,
                "officer": submission.officer.model_dump(),
                "agency": booking.agency,
            },
            to_party=FEDERAL,
        ),
        booking.agency,
    )
    _settle(requests.active_for(unit, booking.id), "close")


def _release(
    unit: Unit,
    booking: BookingRow,
    at: datetime,
    event: str,
    reason: str,
    open_requests: list[FederalRequestRow],
    request_event: str,
) -> None:
    bookings.transition(unit, booking, event)
    booking.left_custody_at = at
    _settle(open_requests, request_event)
    unit.emit(
        Event(
            "PersonReleased",
            "booking",
            booking.id,
            at,
            {
                "booking_id": booking.id,
                "reason": reason,
                "agency": booking.agency,
                "open_requests": [r.id for r in open_requests],
            },
            to_party=FEDERAL if any(requests.honored(r, Action.notify) for r in open_requests) else None,
        ),
        booking.agency,
    )


LAPSE_BATCH = 200


def lapse_due_batch(unit: Unit, now: datetime, agency: str | None, refused: set[str]) -> tuple[list[str], bool]:
    """Up to LAPSE_BATCH holds whose legal limit has passed end, and each person is released at that
    limit; the holds lapsed, and whether more may be due (the caller runs batches, each its own
    transaction, until none is: found by a review, one run lapsed the first 200 and said nothing of
    the rest). ``refused`` gathers the holds that could not lapse, reported once and left out."""
    due = _due_holds(unit, now, agency, refused)
    return _lapse_all(unit, due, now, refused), len(due) >= LAPSE_BATCH


def _due_holds(unit: Unit, now: datetime, agency: str | None, refused: set[str]) -> list[HoldRow]:
    query = select(HoldRow).where(HoldRow.state == HoldState.active, HoldRow.expires_at <= now)
    if refused:
        query = query.where(HoldRow.id.not_in(refused))  # reported already; the others still lapse
    if agency is not None:
        query = query.join(BookingRow, BookingRow.id == HoldRow.booking_id).where(BookingRow.agency == agency)
    query = query.order_by(HoldRow.expires_at, HoldRow.id).limit(LAPSE_BATCH)
    if unit.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=HoldRow)
    due = list(unit.session.scalars(query))
    if due and unit.session.get_bind().dialect.name == "sqlite":
        # Every worker runs the timers. On SQLite the read above ran outside a transaction, so two
        # workers could both find a hold due and both lapse it (seen once in the chaos run: the hold
        # lapsed and the person released twice). Take the write lock, then read again: a hold another
        # worker lapsed meanwhile is no longer due.
        db.lock_for_writing(unit.session.connection())
        due = list(unit.session.scalars(query.execution_options(populate_existing=True)))
    return due


def _lapse_all(unit: Unit, due: list[HoldRow], now: datetime, refused: set[str]) -> list[str]:
    lapsed = []
    for hold in due:
        # Each hold lapses on its own: one that cannot (a record left inconsistent) is reported and
        # left, and every other person is still released at their limit (found by a review: one
        # refusal rolled back the whole tick, for every agency, every 30 seconds).
        try:
            with unit.savepoint():
                _lapse(unit, hold, now)
        except CustodyError as refusal:
            refused.add(hold.id)
            log.error(
                "hold %s of booking %s reached its legal limit at %s but could not be lapsed: %s; "
                "release the person and report this",
                hold.id,
                hold.booking_id,
                hold.expires_at.isoformat(),
                refusal,
            )
        else:
            lapsed.append(hold.id)
    return lapsed


def _lapse(unit: Unit, hold: HoldRow, now: datetime) -> None:
    booking = bookings.get(unit, hold.booking_id)
    request = requests.get(unit, hold.request_id)
    _warn_if_late(hold, booking, now)
    _end(hold, "lapse", hold.expires_at)
    unit.emit(
        Event(
            "DetainerHoldLapsed",
            "booking",
            booking.id,
            hold.expires_at,
            {
                "booking_id": booking.id,
                "request_id": request.id,
                "hold_id": hold.id,
                "agency": booking.agency,
                "max_hours": hold.max_hours,
            },
            to_party=FEDERAL,
        ),
        booking.agency,
    )
    open_requests = requests.active_for(unit, booking.id)
    requests.transition(request, "lapse")
    others = [r for r in open_requests if r.id != request.id]
    _release(unit, booking, hold.expires_at, "lapse_hold", "hold_lapsed", others, "close")


def _warn_if_late(hold: HoldRow, booking: BookingRow, now: datetime) -> None:
    """The record says the hold ended at its legal limit, which is when the person had to go free; if
    the timer ran well after it (no worker or server running, or release eligibility entered late),
    the person may have been kept past the limit, and the jail must know now. The events' recorded_at
    keeps when the lapse was recorded."""
    late = now - hold.expires_at
    if late > LATE:
        log.warning(
            "hold %s of booking %s (%s) reached its legal limit at %s but its lapse was recorded %s later; "
            "release the person now if still held, and check that `custody worker` or `custody serve` "
            "runs the hold timers",
            hold.id,
            booking.id,
            booking.agency,
            hold.expires_at.isoformat(),
            str(late).split(".")[0],
        )


def _active_hold_of(unit: Unit, request_id: str) -> HoldRow | None:
    """The request's active hold, locked against the timers: a tick lapsing it at the same moment
    would otherwise lapse it a second time, and tell the federal side twice (found by a review)."""
    query = select(HoldRow).where(HoldRow.request_id == request_id, HoldRow.state == HoldState.active)
    if unit.session.get_bind().dialect.name == "postgresql":
        return unit.session.scalars(query.with_for_update(of=HoldRow)).first()
    db.lock_for_writing(unit.session.connection())  # SQLite: then read again, as the timers do
    return unit.session.scalars(query.execution_options(populate_existing=True)).first()


def lapse_if_due(unit: Unit, request_id: str, at: datetime) -> None:
    """The request's active hold lapses, at its limit, if that limit passed before ``at``."""
    hold = _active_hold_of(unit, request_id)
    if hold is not None and hold.expires_at < at:
        _lapse(unit, hold, at)


def on_cancel(unit: Unit, request: FederalRequestRow, at: datetime) -> None:
    """A cancelled request ends its hold; the person goes free unless another request holds them."""
    hold = _active_hold_of(unit, request.id)
    if hold is None:
        return
    booking = bookings.get(unit, hold.booking_id)
    # The hold ends when the cancellation came, but never after its legal limit: a cancellation
    # recorded after the limit would otherwise write a longer hold than the law allowed and hide it
    # (found by a review: eight days recorded on a 48-hour hold). Nor before the hold began.
    ended = min(max(at, hold.starts_at), hold.expires_at)
    if at > hold.expires_at:
        _warn_if_late(hold, booking, at)
    _end(hold, "cancel", ended)
    others = [r for r in requests.active_for(unit, booking.id) if r.id != request.id]
    # Another request whose hold the agency honored, and which is in effect when this one is
    # withdrawn, keeps the person, counted from the same moment they would have gone free, as long
    # as its own limit has not passed (found by a review: the cancellation of one detainer released
    # a person another honored detainer held).
    holding = _holding(others, ended)
    if holding is not None:
        other, terms = holding
        # Its limit under the law of each day, as the hold will have it (found by a review: a limit
        # counted without the law started a hold already over).
        limit = _limit(unit, booking, other, hold.starts_at, *terms)
        if limit[0] > ended:
            _hold(unit, booking, other, hold.starts_at, *terms, occurred=ended, limit=limit)
            return
    _release(unit, booking, ended, "lapse_hold", "request_cancelled", others, "close")
