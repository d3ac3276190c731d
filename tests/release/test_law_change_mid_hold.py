"""A hold runs under the law of each day it lasts (found by a review: a hold honored before a law
that forbids continuing it took effect ran on, and federal officers took the person, two days into
that law)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from custody.domain.clock import ManualClock
from custody.domain.errors import RefusedByLaw
from custody.law.model import Action
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import Answer, CancelIn, ResponseIn, ServeIn
from custody.service import Custody
from custody.store.models import EventRow
from tests.release.detainer import THEFT, honored_detainer, i247a

ESSEX = "ocd-division/country:us/state:nj/county:essex"
SHOPLIFTING = {"offense": "shoplifting", "level": "misdemeanor", "violent": False, "serious": False}
HARRIS = "ocd-division/country:us/state:tx/county:harris"
ALL_HONORED = {a: Answer.honor for a in (Action.hold, Action.notify, Action.transfer)}


def _held_in_essex(custody: Custody, clock: ManualClock, eligible_at: str) -> tuple[str, dict[str, object]]:
    """Essex County, March 2019: an I-247A honored on 10 March under federal law alone, the person
    eligible for release at ``eligible_at``; the booking's hold and the hold's start message."""
    clock.set(datetime.fromisoformat("2019-03-10T08:00:00-04:00"))
    booking, _ = honored_detainer(
        custody, ESSEX, eligible_at, "2019-03-10T01:00:00-05:00", "2019-03-10T04:00:00-04:00", SHOPLIFTING
    )
    clock.set(datetime.fromisoformat(eligible_at))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": eligible_at}))
    (hold,) = custody.booking_view(booking)["holds"]
    with custody.unit() as unit:
        started = unit.session.scalars(
            select(EventRow.data).where(EventRow.aggregate_id == booking, EventRow.type == "DetainerHoldStarted")
        ).one()
    return booking, {**hold, "started": started}


def test_a_hold_ends_at_the_midnight_a_law_forbidding_it_takes_effect(custody: Custody, clock: ManualClock) -> None:
    """New Jersey's Immigrant Trust Directive, in force from Friday 15 March 2019, forbids keeping a
    person past release on a detainer alone: a hold begun at 21:00 on the 14th ends at midnight."""
    booking, hold = _held_in_essex(custody, clock, "2019-03-14T21:00:00-04:00")
    midnight = datetime.fromisoformat("2019-03-15T00:00:00-04:00")
    assert datetime.fromisoformat(str(hold["expires_at"])) == midnight
    limited_by = hold["started"]["limited_by"]  # type: ignore[index]
    assert limited_by["on"] == "2019-03-15" and limited_by["status"] == "prohibited"
    assert any("2018-6" in c for c in limited_by["citations"]), limited_by

    clock.set(datetime.fromisoformat("2019-03-16T20:00:00-04:00"))
    with pytest.raises(RefusedByLaw, match="must be released, not transferred"):
        custody.transfer(
            booking, TransferIn.model_validate({"at": "2019-03-16T20:00:00-04:00", "officer": {"name": "O"}})
        )
    assert custody.tick()  # the hold lapses at that midnight, and the person is released as of then
    assert datetime.fromisoformat(custody.booking_view(booking)["left_custody_at"]) == midnight


def test_a_hold_wholly_before_the_law_changes_keeps_its_hours(custody: Custody, clock: ManualClock) -> None:
    """The other side: eligible on the 12th, the 48 hours end on the 14th, before the directive."""
    _, hold = _held_in_essex(custody, clock, "2019-03-12T21:00:00-04:00")
    eligible = datetime.fromisoformat("2019-03-12T21:00:00-04:00")
    assert datetime.fromisoformat(str(hold["expires_at"])) == eligible + timedelta(hours=48)
    assert "limited_by" not in hold["started"]  # type: ignore[operator]


def test_the_decision_that_ends_a_hold_early_is_logged_and_named(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: the later day's decision left no record for `custody law explain`."""
    _, hold = _held_in_essex(custody, clock, "2019-03-14T21:00:00-04:00")
    limited_by = hold["started"]["limited_by"]  # type: ignore[index]
    logged = custody.decision_log(limited_by["decision_id"])
    assert logged is not None and logged["result"]["on"] == "2019-03-15"
    assert logged["result"]["actions"]["hold"]["status"] == "prohibited"
    assert limited_by["law_revision"] == logged["result"]["law_revision"]


def test_a_later_detainer_takes_over_a_cancelled_one_s_hold(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: the law was decided for the taken-over request at midnights before it was
    issued, which refused, so the cancellation was dead-lettered and the withdrawn hold ran on."""
    clock.set(datetime.fromisoformat("2017-10-03T10:00:00-05:00"))
    booking, first = honored_detainer(
        custody, HARRIS, "T-1", "2017-10-03T01:00:00-05:00", "2017-10-03T02:00:00-05:00", THEFT
    )
    eligible = "2017-10-03T21:00:00-05:00"
    clock.set(datetime.fromisoformat(eligible))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": eligible}))
    clock.set(datetime.fromisoformat("2017-10-05T11:00:00-05:00"))
    second = i247a(custody, booking, "2017-10-05T10:00:00-05:00")
    custody.serve(second, ServeIn.model_validate({"at": "2017-10-05T10:30:00-05:00"}))
    custody.respond(second, ResponseIn(answers=ALL_HONORED, at=clock.now()))
    clock.set(datetime.fromisoformat("2017-10-05T14:00:00-05:00"))
    custody.cancel(first, CancelIn.model_validate({"at": clock.now().isoformat(), "reason": "replaced"}))
    view = custody.booking_view(booking)
    assert custody.request_view(first)["state"] == "cancelled"
    (active,) = [h for h in view["holds"] if h["state"] == "active"]
    assert active["request_id"] == second
    assert datetime.fromisoformat(active["expires_at"]) == datetime.fromisoformat(eligible) + timedelta(hours=48)


def test_a_hold_taken_over_is_limited_by_the_law_as_the_first_was(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: cancelling one of two honored detainers at the midnight the directive took
    effect started a hold on the other that was already over; the person is released instead."""
    clock.set(datetime.fromisoformat("2019-03-10T08:00:00-04:00"))
    booking, first = honored_detainer(
        custody, ESSEX, "E-2", "2019-03-10T01:00:00-05:00", "2019-03-10T04:00:00-04:00", SHOPLIFTING
    )
    second = i247a(custody, booking, "2019-03-10T05:00:00-04:00")
    custody.serve(second, ServeIn.model_validate({"at": "2019-03-10T06:00:00-04:00"}))
    custody.respond(second, ResponseIn(answers=ALL_HONORED, at=datetime.fromisoformat("2019-03-10T07:00:00-04:00")))
    clock.set(datetime.fromisoformat("2019-03-14T21:00:00-04:00"))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2019-03-14T21:00:00-04:00"}))
    clock.set(datetime.fromisoformat("2019-03-15T00:00:00-04:00"))
    custody.cancel(first, CancelIn.model_validate({"at": clock.now().isoformat(), "reason": "withdrawn"}))
    view = custody.booking_view(booking)
    assert view["state"] == "released" and [h["request_id"] for h in view["holds"]] == [first]
    released = [e for e in view["timeline"] if e["type"] == "PersonReleased"]
    assert released[0]["data"]["reason"] == "request_cancelled"
    assert custody.request_view(second)["state"] == "closed"
