"""Requests that have not reached the jail, and cancellations, at the moment a person leaves.

Found by a review: a second detainer still on its way when a hold lapsed made the lapse refuse
("the federal request is issued: 'close' cannot happen now"), and the tick, which lapses every due
hold in one transaction, then lapsed none, for any agency, every time it ran; a request on its way
made a booking impossible to release; a cancellation recorded after a hold's limit recorded a
longer hold than the law allowed."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, InvalidInput
from custody.law.model import Action
from custody.release.commands import ReleaseIn
from custody.requests.commands import Answer, CancelIn, ResponseIn, ServeIn
from custody.service import Custody
from custody.store.models import EventRow, FederalRequestRow
from tests.release.detainer import THEFT, booked, honored_detainer, i247a

HARRIS = "ocd-division/country:us/state:tx/county:harris"
ALL_HONORED = {a: Answer.honor for a in (Action.hold, Action.notify, Action.transfer)}


def _held(custody: Custody, clock: ManualClock, number: str) -> tuple[str, str, datetime]:
    """Harris County, October 2017: an I-247A honored under SB 4, the person held 48 hours."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking, request = honored_detainer(
        custody, HARRIS, number, "2017-10-05T01:00:00-05:00", "2017-10-05T02:00:00-05:00", THEFT
    )
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    (hold,) = custody.booking_view(booking)["holds"]
    return booking, request, datetime.fromisoformat(hold["expires_at"])


def test_a_request_still_on_its_way_does_not_stop_the_hold_timers(custody: Custody, clock: ManualClock) -> None:
    booking, _, expires = _held(custody, clock, "T-1")
    other, _, _ = _held(custody, clock, "T-2")
    clock.set(datetime.fromisoformat("2017-10-05T12:00:00-05:00"))
    waiting = i247a(custody, booking, clock.now().isoformat(), delivered=False)

    lapsed = custody.tick(expires + timedelta(minutes=1))

    assert len(lapsed) == 2
    assert custody.booking_view(booking)["state"] == "released"
    assert custody.booking_view(other)["state"] == "released"
    assert custody.request_view(waiting)["state"] == "issued"  # the jail has not received it


def test_one_hold_that_cannot_lapse_does_not_keep_everyone_else_held(
    custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A record left inconsistent (here, a hold whose request was closed behind its back) is
    reported with what to do, and every other due hold still lapses."""
    broken, broken_request, expires = _held(custody, clock, "T-3")
    fine, _, _ = _held(custody, clock, "T-4")
    with custody.unit() as unit:
        row = unit.session.get(FederalRequestRow, broken_request)
        assert row is not None
        row.state = "fulfilled"
    with caplog.at_level(logging.ERROR, logger="custody.release"):
        lapsed = custody.tick(expires + timedelta(minutes=1))
    assert len(lapsed) == 1
    assert custody.booking_view(fine)["state"] == "released"
    assert custody.booking_view(broken)["state"] == "held_on_detainer"
    assert "could not be lapsed" in caplog.text and "release the person" in caplog.text


def test_a_person_with_a_request_on_its_way_can_be_released(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking = booked(custody, HARRIS, "T-5", "2017-10-05T01:00:00-05:00")
    waiting = i247a(custody, booking, "2017-10-05T08:00:00-05:00", delivered=False)
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    assert custody.booking_view(booking)["state"] == "released"
    assert custody.request_view(waiting)["state"] == "issued"


def test_a_cancellation_recorded_after_the_limit_ends_the_hold_at_the_limit(
    custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    booking, request, expires = _held(custody, clock, "T-6")
    late = expires + timedelta(days=6)
    clock.set(late)
    with caplog.at_level(logging.WARNING, logger="custody.release"):
        custody.cancel(request, CancelIn.model_validate({"at": late.isoformat(), "reason": "no longer sought"}))
    view = custody.booking_view(booking)
    (hold,) = view["holds"]
    assert datetime.fromisoformat(hold["ended_at"]) == expires
    assert datetime.fromisoformat(view["left_custody_at"]) == expires
    assert "release the person now" in caplog.text
    # Found by a later review: the hold was recorded as cancelled, the person released for a
    # cancellation that came six days after, and the federal side never told the hold lapsed.
    assert hold["state"] == "lapsed" and custody.request_view(request)["state"] == "lapsed"
    events = {e["type"]: e for e in view["timeline"]}
    assert events["PersonReleased"]["data"]["reason"] == "hold_lapsed"
    assert events["DetainerHoldLapsed"]["to_party"] == "federal"
    with custody.unit() as unit:
        (withdrawn,) = unit.session.scalars(
            select(EventRow.data).where(EventRow.aggregate_id == request, EventRow.type == "RequestWithdrawn")
        ).all()
    assert withdrawn == {"reason": "no longer sought", "after": "lapsed"}  # recorded, not a dead letter


@pytest.mark.parametrize(
    ("at", "words"),
    [("2017-10-01T00:00:00-05:00", "before the request was issued"), ("2099-01-01T00:00:00Z", "in the future")],
)
def test_a_cancellation_dated_before_its_request_or_in_the_future_is_refused(
    custody: Custody, clock: ManualClock, at: str, words: str
) -> None:
    _, request, _ = _held(custody, clock, "T-7")
    with pytest.raises(InvalidInput, match=words):
        custody.cancel(request, CancelIn.model_validate({"at": at, "reason": "x"}))


def test_two_release_eligibilities_sent_together_start_one_hold(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: two officers' (or one retried) release eligibility arriving at the same
    moment both read the booking in custody and both started a hold; the booking is now locked for
    the change, so the second waits, sees the hold, and is refused."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    outcomes: dict[str, list[str]] = {}
    for n in range(4):
        booking, _ = honored_detainer(
            custody, HARRIS, f"R-{n}", "2017-10-05T01:00:00-05:00", "2017-10-05T02:00:00-05:00", THEFT
        )
        together = threading.Barrier(2)
        results: list[str] = []

        def release(
            booking: str = booking, together: threading.Barrier = together, results: list[str] = results
        ) -> None:
            together.wait(5)
            try:
                custody.release_eligible(
                    booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"})
                )
                results.append("done")
            except Conflict as refusal:
                results.append(f"refused: {refusal}")

        threads = [threading.Thread(target=release) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        outcomes[booking] = sorted(results)
        assert len(custody.booking_view(booking)["holds"]) == 1, outcomes
    for results in outcomes.values():
        assert results[0] == "done" and "release eligibility was already recorded" in results[1], outcomes


def test_cancelling_one_detainer_leaves_the_person_held_on_another_honored_one(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: the cancellation of one detainer released a person whom a second detainer,
    also honored, held. The second hold counts from the same moment the person would have gone free,
    so the cancellation cannot lengthen the time held."""
    booking, first, expires = _held(custody, clock, "T-8")
    clock.set(datetime.fromisoformat("2017-10-05T12:00:00-05:00"))
    second = i247a(custody, booking, "2017-10-05T11:00:00-05:00", "I-205")
    custody.serve(second, ServeIn.model_validate({"at": "2017-10-05T11:15:00-05:00"}))
    custody.respond(
        second,
        ResponseIn(answers=ALL_HONORED, at=clock.now()),
    )
    custody.cancel(first, CancelIn.model_validate({"at": "2017-10-05T12:00:00-05:00", "reason": "replaced"}))

    view = custody.booking_view(booking)
    assert view["state"] == "held_on_detainer"
    active = [h for h in view["holds"] if h["state"] == "active"]
    assert [(h["request_id"], datetime.fromisoformat(h["expires_at"])) for h in active] == [(second, expires)]
    custody.tick(expires + timedelta(minutes=1))
    assert custody.booking_view(booking)["state"] == "released"


def test_an_eligibility_recorded_late_is_not_held_on_a_detainer_issued_after_it(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: eligibility at 05:00 entered after an I-247A issued at 06:00 and answered
    started a hold at 05:00, an hour before the detainer existed."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking, request = honored_detainer(
        custody, HARRIS, "T-9", "2017-10-05T01:00:00-05:00", "2017-10-05T06:00:00-05:00", THEFT
    )
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T05:00:00-05:00"}))
    view = custody.booking_view(booking)
    assert view["state"] == "released" and view["holds"] == []
    assert custody.request_view(request)["state"] == "closed"


def test_an_i247a_served_after_the_person_was_due_out_does_not_hold_them(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: served at 20:00, the I-247A held a person due out at 10:00 from 10:00, while
    it takes effect only once served."""
    clock.set(datetime.fromisoformat("2017-10-05T21:00:00-05:00"))
    booking, _ = honored_detainer(
        custody, HARRIS, "T-10", "2017-10-05T01:00:00-05:00", "2017-10-05T02:00:00-05:00", THEFT
    )
    with custody.unit() as unit:  # the copy was in fact served that evening
        row = unit.session.scalars(select(FederalRequestRow).where(FederalRequestRow.booking_id == booking)).one()
        row.served_at = datetime.fromisoformat("2017-10-05T20:00:00-05:00")
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T10:00:00-05:00"}))
    view = custody.booking_view(booking)
    assert view["state"] == "released" and view["holds"] == []


def test_the_detainer_in_effect_holds_when_an_older_one_was_served_too_late(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a code review: with the first detainer's copy served after the person was due out,
    the release looked no further and freed a person a second, served detainer held."""
    clock.set(datetime.fromisoformat("2017-10-05T21:00:00-05:00"))
    booking = booked(custody, HARRIS, "T-11", "2017-10-05T01:00:00-05:00")
    first = i247a(custody, booking, "2017-10-05T02:00:00-05:00", "I-200")
    custody.respond(first, ResponseIn(answers=ALL_HONORED, at=datetime.fromisoformat("2017-10-05T02:30:00-05:00")))
    second = i247a(custody, booking, "2017-10-05T03:00:00-05:00", "I-205")
    custody.serve(second, ServeIn.model_validate({"at": "2017-10-05T03:30:00-05:00"}))
    custody.respond(second, ResponseIn(answers=ALL_HONORED, at=datetime.fromisoformat("2017-10-05T04:00:00-05:00")))
    custody.serve(first, ServeIn.model_validate({"at": "2017-10-05T20:00:00-05:00"}))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T10:00:00-05:00"}))
    view = custody.booking_view(booking)
    assert view["state"] == "held_on_detainer"
    assert [h["request_id"] for h in view["holds"]] == [second]


def test_a_withdrawn_hold_is_not_carried_on_by_a_detainer_not_yet_in_effect(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a code review: a cancellation at noon carried the hold on under an I-247A served at
    one, counted from nine, before it took effect."""
    booking, first, _ = _held(custody, clock, "T-12")  # held from 09:00
    clock.set(datetime.fromisoformat("2017-10-05T14:00:00-05:00"))
    second = i247a(custody, booking, "2017-10-05T11:00:00-05:00", "I-205")
    custody.respond(second, ResponseIn(answers=ALL_HONORED, at=clock.now()))
    custody.serve(second, ServeIn.model_validate({"at": "2017-10-05T13:00:00-05:00"}))
    custody.cancel(first, CancelIn.model_validate({"at": "2017-10-05T12:00:00-05:00", "reason": "withdrawn at noon"}))
    view = custody.booking_view(booking)
    assert view["state"] == "released" and view["left_custody_at"].startswith("2017-10-05T17:00")
