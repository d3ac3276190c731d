"""Receiving a federal request, deciding it under the law, and answering it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from custody.booking import service as bookings
from custody.booking.model import PERSON_FLAGS, CustodyState
from custody.domain.divisions import local_moment, local_zone, parse_division
from custody.domain.errors import Conflict, InvalidInput, NotFound, RefusedByLaw
from custody.domain.events import FEDERAL, Event, local_party
from custody.identity.service import FEDERAL_CHAIN
from custody.law.engine import Decision, decide, missing_in_words, new_decision_id
from custody.law.loader import default_library
from custody.law.log import log_decision
from custody.law.model import Action, HoldClock, Status
from custody.requests.commands import Answer, CancelIn, RequestIn, ResponseIn, ServeIn
from custody.requests.model import (
    ACTIVE,
    DEFAULT_ACTIONS,
    FORM_KIND,
    REQUEST,
    RequestState,
    Warrant,
    check_form,
)
from custody.store.models import BookingRow, DecisionRow, EventRow, FederalRequestRow
from custody.store.unit import CHUNK, Unit, locked, new_id

_ISSUED_EVENT = {
    "detainer": "DetainerIssued",
    "notification_request": "NotificationRequestIssued",
    "transfer_request": "TransferRequestIssued",
}
_RECEIVED_EVENT = {
    "detainer": "DetainerReceived",
    "notification_request": "NotificationRequestReceived",
    "transfer_request": "TransferRequestReceived",
}
# The open requests of a list of bookings, oldest first: built once (issue 8).
OPEN_REQUESTS_OF = (
    select(FederalRequestRow)
    .where(
        FederalRequestRow.booking_id.in_(bindparam("ids", expanding=True)),
        FederalRequestRow.state.in_([s.value for s in ACTIVE]),
    )
    .order_by(FederalRequestRow.issued_at)
)


def get(unit: Unit, request_id: str, for_change: bool = False) -> FederalRequestRow:
    """The request; ``for_change``: locked for the command about to change it (``unit.locked``)."""
    row = locked(unit, FederalRequestRow, request_id) if for_change else unit.session.get(FederalRequestRow, request_id)
    if row is None:
        raise NotFound(f"no federal request '{request_id}'; list them with `custody requests` or GET /federal/requests")
    return row


def active_for(unit: Unit, booking_id: str) -> list[FederalRequestRow]:
    return active_for_all(unit, [booking_id]).get(booking_id, [])


def active_for_all(unit: Unit, booking_ids: Sequence[str]) -> dict[str, list[FederalRequestRow]]:
    """The open requests of each of these bookings, oldest first (bookings with none are left out)."""
    found: dict[str, list[FederalRequestRow]] = {}
    for i in range(0, len(booking_ids), CHUNK):
        for row in unit.session.scalars(OPEN_REQUESTS_OF, {"ids": booking_ids[i : i + CHUNK]}):
            found.setdefault(row.booking_id, []).append(row)
    return found


def transition(request: FederalRequestRow, event: str) -> None:
    request.state = REQUEST.fire(RequestState(request.state), event).value


def local_day(division_id: str, moment: datetime) -> Any:
    return moment.astimezone(local_zone(parse_division(division_id))).date()


def issue(unit: Unit, submission: RequestIn) -> FederalRequestRow:
    """The federal side issues a request for a booked person; it reaches the agency holding them as a
    message, and the agency decides it under its law when the message arrives."""
    booking = unit.session.get(BookingRow, submission.booking_id)
    if booking is None:
        raise NotFound(
            f"no booking '{submission.booking_id}': a request must name a booking the federal side was told of"
        )
    if booking.state in (CustodyState.released, CustodyState.transferred):
        raise Conflict(f"booking {booking.id} is closed ({booking.state}); the person is no longer in local custody")
    bookings.not_ahead(submission.issued_at, unit.clock.now(), "issued_at", booking.agency)
    if submission.issued_at < booking.booked_at:
        raise InvalidInput("issued_at is before the booking; a request can only follow the booking")
    library = default_library()
    first, day = library.first_law, local_day(booking.agency, submission.issued_at)
    if first is not None and day < first.effective_from:
        # Accepted, it could never be decided when it reached the jail, and would keep the person from
        # being released or the request from being answered (found by a review).
        raise InvalidInput(
            f"custody's law library begins on {first.effective_from} ({first.citation}) and holds no law for a "
            f"request issued on {day}: such a request cannot be decided here"
        )
    form = library.forms.get(submission.form)
    if form is None:
        raise InvalidInput(f"unknown form {submission.form}; use one of {', '.join(library.forms)}")
    check_form(form, local_day(booking.agency, submission.issued_at), submission.warrant)
    kind = submission.kind or FORM_KIND[form.name]
    actions = [a.value for a in (submission.actions or DEFAULT_ACTIONS[kind])]
    duplicate = unit.session.scalar(
        select(FederalRequestRow.id).where(
            FederalRequestRow.booking_id == booking.id,
            FederalRequestRow.form == form.name,
            FederalRequestRow.issued_at == submission.issued_at,
        )
    )
    if duplicate:
        raise Conflict(f"this request was already issued as {duplicate}")
    row = FederalRequestRow(
        id=new_id("req"),
        booking_id=booking.id,
        kind=kind.value,
        form=form.name,
        warrant=submission.warrant.value,
        actions=actions,
        officer=submission.officer.model_dump(),
        issued_at=submission.issued_at,
        recorded_at=unit.clock.now(),
        state=REQUEST.initial.value,
        agency=booking.agency,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(
        Event(
            _ISSUED_EVENT[kind.value],
            "request",
            row.id,
            submission.issued_at,
            {
                "request_id": row.id,
                "booking_id": booking.id,
                "agency": booking.agency,
                "kind": kind.value,
                "form": form.name,
                "actions": actions,
                "warrant": row.warrant,
                "officer": row.officer,
                "issued_at": submission.issued_at.isoformat(),
            },
            to_party=local_party(booking.agency),
        ),
        FEDERAL_CHAIN,
    )
    return row


def receive(unit: Unit, data: dict[str, Any]) -> FederalRequestRow:
    """The agency receives the request and decides it at once under the law in force for it."""
    request = get(unit, data["request_id"])
    if request.state == RequestState.cancelled:
        return request  # withdrawn before it arrived: nothing left to decide
    booking = bookings.get(unit, data["booking_id"])
    if booking.state in (CustodyState.released, CustodyState.transferred):
        raise Conflict(f"booking {booking.id} is closed ({booking.state}); the request arrived after the person left")
    transition(request, "receive")
    unit.emit(
        Event(
            _RECEIVED_EVENT[request.kind],
            "request",
            request.id,
            unit.clock.now(),
            {"booking_id": booking.id, "form": request.form, "agency": booking.agency},
        ),
        booking.agency,
    )
    record_decision(unit, request, booking, request.issued_at, "decide")
    return request


def decision_request(booking: BookingRow, request: FederalRequestRow, moment: datetime) -> dict[str, Any]:
    """The DecisionRequest for this booking, request and agency on the local date of ``moment``."""
    on = local_day(booking.agency, moment)
    person = booking.person
    dob = datetime.fromisoformat(person["date_of_birth"]).date()
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    return {
        "agency": booking.agency,
        "on": on.isoformat(),
        "agency_kind": booking.agency_kind,
        "request": {
            "form": request.form,
            "actions": request.actions,
            "warrant": Warrant(request.warrant).contract,
            "issued_on": local_day(booking.agency, request.issued_at).isoformat(),
        },
        "person": {
            "age": max(age, 0),
            "convictions": booking.convictions,
            "pending_charges": booking.charges,
            "juvenile": age < 18,
            **{flag: person[flag] for flag in PERSON_FLAGS},
        },
        "custody": {"status": "pretrial"},
    }


def _decision(
    unit: Unit, request: FederalRequestRow, booking: BookingRow, moment: datetime
) -> tuple[dict[str, Any], Decision]:
    """The law in force for the agency now holding the person on the day of ``moment``: its inputs
    and its decision (a reform's replacement law, in a simulation of one)."""
    inputs = decision_request(booking, request, moment)
    if unit.reform is not None:
        inputs = unit.reform(booking.agency, inputs)
    return inputs, decide(inputs, decision_id=new_decision_id())


def decision_on(
    unit: Unit, request: FederalRequestRow, booking: BookingRow, moment: datetime
) -> tuple[dict[str, Any], Decision]:
    """The law in force on the day of ``moment`` for this request: its inputs and its decision,
    neither logged nor adopted (``log_only`` logs one that came to matter)."""
    return _decision(unit, request, booking, moment)


def log_only(unit: Unit, request: FederalRequestRow, inputs: dict[str, Any], decision: Decision) -> None:
    """Log a decision that bears on the request (a later day's law ending its hold) without making it
    the request's decision, which stays the one its answer was given under."""
    log_decision(unit, decision, inputs, request.id)


def _adopt(unit: Unit, request: FederalRequestRow, inputs: dict[str, Any], decision: Decision) -> None:
    log_decision(unit, decision, inputs, request.id)
    request.decision_id = decision.decision_id


def record_decision(
    unit: Unit, request: FederalRequestRow, booking: BookingRow, moment: datetime, event: str
) -> Decision:
    """Decide under the law in force for the agency now holding the person, and log the decision."""
    inputs, decision = _decision(unit, request, booking, moment)
    _adopt(unit, request, inputs, decision)
    request.agency = booking.agency
    request.response = None
    transition(request, event)
    unit.emit(
        Event(
            "RequestDecided",
            "request",
            request.id,
            moment,
            {
                "decision_id": decision.decision_id,
                "law_revision": decision.law_revision,
                "agency": booking.agency,
                "on": decision.on.isoformat(),
                "actions": {a: d["status"] for a, d in decision.to_contract()["actions"].items()},
            },
        ),
        booking.agency,
    )
    return decision


def decision_of(unit: Unit, request: FederalRequestRow) -> dict[str, Any]:
    row = unit.session.get(DecisionRow, request.decision_id)
    assert row is not None
    return row.result


def respond(unit: Unit, request: FederalRequestRow, submission: ResponseIn) -> None:
    """Record the agency's answer to each action; the law decides what the answer may be."""
    if request.state == RequestState.responded:
        response = request.response or {}
        said = ", ".join(f"{name} {answer['answer']}" for name, answer in response.get("answers", {}).items())
        when = local_moment(datetime.fromisoformat(response["at"]), request.agency)
        raise Conflict(
            f"request {request.id} was already answered at {when} ({said}); an answer is given "
            "once: what the law of the day no longer allows is withdrawn at release on its own"
        )
    if request.state != RequestState.decided:
        transition(request, "respond")  # raises with what is allowed now
    if submission.at < request.issued_at:
        raise InvalidInput(
            f"the answer ({local_moment(submission.at, request.agency)}) cannot come before the request was "
            f"issued ({local_moment(request.issued_at, request.agency)}); check the time of the answer"
        )
    bookings.not_ahead(submission.at, unit.clock.now(), "the answer's time", request.agency)
    decision = decision_of(unit, request)
    unknown = set(submission.answers) - {Action(a) for a in request.actions}
    if unknown:
        raise InvalidInput(f"the request does not ask for {', '.join(sorted(unknown))}")
    answers: dict[str, Any] = {}
    for name in request.actions:
        action = Action(name)
        ruling = decision["actions"][name]
        status = Status(ruling["status"])
        answer = submission.answers.get(action)
        cited = "; ".join(ruling["citations"]) or "the law decision"
        if answer is None:
            if status is Status.required:
                answer = Answer.honor
            elif status in (Status.prohibited, Status.undetermined):
                answer = Answer.decline
            else:
                raise InvalidInput(
                    f"'{name}' is permitted but not required ({cited}); the agency must choose: "
                    f"honor or decline it (`--honor {name}` or `--decline {name}` on the command line; "
                    f'"{name}": "honor" or "decline" in the answers of POST /federal/requests/{request.id}/response)'
                )
        if answer is Answer.honor and status is Status.prohibited:
            raise RefusedByLaw(f"'{name}' cannot be honored: {ruling['explanation']}")
        if answer is Answer.honor and status is Status.undetermined:
            raise RefusedByLaw(
                f"'{name}' cannot be honored while the law decision is undetermined: it turns on "
                f"{missing_in_words(ruling.get('missing', []))}"
            )
        if answer is Answer.decline and status is Status.required:
            raise RefusedByLaw(f"'{name}' cannot be declined: {ruling['explanation']}")
        answers[name] = {
            "answer": answer.value,
            "status": status.value,
            "citations": ruling["citations"],
            "reason": submission.reasons.get(action) or _reason(answer, status, cited, ruling["explanation"]),
        }
        if name == Action.hold and answer is Answer.honor:
            answers[name]["max_hours"] = ruling.get("max_hours")
            answers[name]["hold_clock"] = ruling.get("hold_clock")
    transition(request, "respond")
    request.response = {"decision_id": request.decision_id, "at": submission.at.isoformat(), "answers": answers}
    booking = bookings.get(unit, request.booking_id)
    unit.emit(
        Event(
            "RequestResponded",
            "request",
            request.id,
            submission.at,
            {
                "request_id": request.id,
                "booking_id": request.booking_id,
                "agency": request.agency,
                "decision_id": request.decision_id,
                "answers": answers,
            },
            to_party=FEDERAL,
        ),
        booking.agency,
    )


def recheck(unit: Unit, booking: BookingRow, open_requests: list[FederalRequestRow], moment: datetime) -> None:
    """The agency acts at release under the law in force on that day, which may not be the law of the
    day it decided the request: New Jersey's directive, in force from 15 March 2019, forbids holding a
    person on a detainer received on 10 March; a conviction may have aged past a rule's look-back.
    What the agency honored and the law of the day no longer allows (prohibited, or undetermined) is
    withdrawn; an honored hold keeps the fewer hours and the stricter clock of the two decisions. The
    agency's other answers stand: an action newly required is not imposed on an answer already given
    and acted on. Nothing is written when the law of the day allows every answer as given."""
    for request in open_requests:
        answers: dict[str, Any] = (request.response or {}).get("answers", {})
        kept = [name for name, answer in answers.items() if answer["answer"] == Answer.honor.value]
        if not kept:
            continue
        inputs, decision = _decision(unit, request, booking, moment)
        rulings = decision.to_contract()["actions"]
        revised = {name: r for name in kept if (r := _revised(answers[name], rulings[name], inputs["on"])) is not None}
        if not revised:
            continue
        _adopt(unit, request, inputs, decision)
        request.response = {**(request.response or {}), "answers": {**answers, **revised}}
        unit.emit(
            Event(
                "RequestRedecided",
                "request",
                request.id,
                moment,
                {
                    "request_id": request.id,
                    "booking_id": booking.id,
                    "agency": booking.agency,
                    "decision_id": decision.decision_id,
                    "on": decision.on.isoformat(),
                    "law_revision": decision.law_revision,
                    "answers": revised,
                },
                to_party=FEDERAL,
            ),
            booking.agency,
        )


def _revised(answer: dict[str, Any], ruling: dict[str, Any], on: str) -> dict[str, Any] | None:
    """An honored answer as the law of ``on`` allows it, or None if it allows it as given."""
    status = Status(ruling["status"])
    if status in (Status.prohibited, Status.undetermined):
        return {
            "answer": Answer.decline.value,
            "status": status.value,
            "citations": ruling["citations"],
            "reason": f"Honored earlier; the law in force on {on} no longer allows it. {ruling['explanation']}",
        }
    if answer.get("max_hours") is None:
        return None  # not a hold
    hours = min(float(answer["max_hours"]), float(ruling.get("max_hours") or answer["max_hours"]))
    clock = HoldClock.strictest([HoldClock(c) for c in (answer.get("hold_clock"), ruling.get("hold_clock")) if c])
    if hours == float(answer["max_hours"]) and (clock.value if clock else None) == answer.get("hold_clock"):
        return None
    return {
        **answer,
        "status": status.value,
        "citations": list(dict.fromkeys([*answer["citations"], *ruling["citations"]])),
        "reason": f"Honored earlier; the law in force on {on} allows a shorter hold. {ruling['explanation']}",
        "max_hours": hours,
        "hold_clock": clock.value if clock else None,
    }


def _reason(answer: Answer, status: Status, cited: str, explanation: str) -> str:
    """Why the answer is what it is, when the agency gave no reason of its own. Where the law decided
    (required, prohibited, undetermined) its explanation says why; where it left the choice to the
    agency, the law's explanation argues for an action the agency may have declined, so the reason
    says whose choice it was."""
    if status is not Status.permitted:
        return explanation
    verb = "Honored" if answer is Answer.honor else "Declined"
    return f"{verb} by the agency's choice: the law permits it and does not require it ({cited})."


def honored(request: FederalRequestRow, action: Action) -> bool:
    return answer_to(request, action).get("answer") == Answer.honor.value


def answer_to(request: FederalRequestRow, action: Action) -> dict[str, Any]:
    """The agency's answer to one action of the request ({} where it has not answered it, or the
    request did not ask for it)."""
    answer: dict[str, Any] = ((request.response or {}).get("answers") or {}).get(action.value) or {}
    return answer


def serve(unit: Unit, request: FederalRequestRow, submission: ServeIn) -> None:
    """A copy of the detainer is served on the person; the I-247A takes effect only once served."""
    if request.state not in [s.value for s in ACTIVE]:
        raise Conflict(f"request {request.id} is {request.state}; only an open request can be served")
    if request.served_at is not None:
        raise Conflict(f"request {request.id} was already served at {local_moment(request.served_at, request.agency)}")
    if submission.at < request.issued_at:
        raise InvalidInput(
            f"the copy cannot be served ({local_moment(submission.at, request.agency)}) before the request was "
            f"issued ({local_moment(request.issued_at, request.agency)}); check the date and time of service"
        )
    bookings.not_ahead(submission.at, unit.clock.now(), "the time of service", request.agency)
    request.served_at = submission.at
    booking = bookings.get(unit, request.booking_id)
    unit.emit(Event("DetainerServed", "request", request.id, submission.at, {"booking_id": booking.id}), booking.agency)


def relay(unit: Unit, booking: BookingRow, moment: datetime) -> None:
    """The person moved to another agency: each open request follows them and is decided anew."""
    for request in active_for(unit, booking.id):
        if request.state in (RequestState.decided, RequestState.responded):
            record_decision(unit, request, booking, moment, "relay")


def cancel(unit: Unit, request: FederalRequestRow, submission: CancelIn) -> None:
    """The federal side withdraws a request; the agency applies it when the message arrives."""
    if request.state not in [s.value for s in ACTIVE]:
        raise Conflict(f"request {request.id} is {request.state}; only an open request can be cancelled")
    if submission.at < request.issued_at:
        raise InvalidInput(
            f"the cancellation ({local_moment(submission.at, request.agency)}) cannot come before the request "
            f"was issued ({local_moment(request.issued_at, request.agency)})"
        )
    bookings.not_ahead(submission.at, unit.clock.now(), "the cancellation's time", request.agency)
    # Where the agency's worker applies messages later, the request stays open until it does: a second
    # cancellation was accepted and then dead-lettered (found by a review).
    waiting = any(e["type"] == "RequestCancelled" for e in unit.events_waiting([request.id]))
    already = select(EventRow.seq).where(EventRow.aggregate_id == request.id, EventRow.type == "RequestCancelled")
    if waiting or unit.session.scalars(already.limit(1)).first() is not None:
        raise Conflict(f"request {request.id} is already cancelled; the cancellation is on its way to the agency")
    unit.emit(
        Event(
            "RequestCancelled",
            "request",
            request.id,
            submission.at,
            {"request_id": request.id, "booking_id": request.booking_id, "reason": submission.reason},
            to_party=local_party(request.agency),
        ),
        FEDERAL_CHAIN,
    )


def apply_cancellation(unit: Unit, data: dict[str, Any], at: datetime) -> FederalRequestRow | None:
    """The agency applies a cancellation: the request ends, or, where it ended before the
    cancellation came (the person left, the hold lapsed), the cancellation is recorded beside it and
    changes nothing (None). It went to the dead-letter store before, for the jail's staff to
    puzzle over."""
    request = get(unit, data["request_id"])
    ended = request.state not in [s.value for s in ACTIVE]
    if not ended:
        transition(request, "cancel")
    data = {"reason": data["reason"], **({"after": request.state} if ended else {})}
    unit.emit(Event("RequestWithdrawn", "request", request.id, at, data), request.agency)
    return None if ended else request
