"""Federal officers take custody only where the agency's answer lets them: an honored transfer, or
an honored hold whose transfer the agency did not decline.

Found by a review: an agency that honored the hold but declined the transfer (Harris County before
SB 4, where the law permitted both and required neither) had the person handed over all the same,
during the hold and at release with officers present."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, RefusedByLaw
from custody.law.model import Action
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import Answer, RequestIn, ResponseIn, ServeIn
from custody.service import Custody
from tests.release.detainer import THEFT, booked

HARRIS = "ocd-division/country:us/state:tx/county:harris"
ISSUED = datetime.fromisoformat("2017-05-02T02:00:00-05:00")
OFFICER = {"name": "ERO Officer"}


def _answered(
    custody: Custody, clock: ManualClock, number: str, answers: dict[Action, Answer], served: bool = True
) -> str:
    """A booking in Harris County, May 2017, with an I-247A answered as given (and served)."""
    clock.set(datetime.fromisoformat("2017-05-02T10:00:00-05:00"))
    booking = booked(custody, HARRIS, number, "2017-05-02T01:00:00-05:00", THEFT)
    request = custody.issue_request(
        RequestIn.model_validate(
            {
                "booking_id": booking,
                "form": "I-247A",
                "warrant": "I-200",
                "officer": {"name": "O"},
                "issued_at": ISSUED.isoformat(),
                "actions": [a.value for a in answers],
            }
        )
    ).id
    if served:
        custody.serve(request, ServeIn(at=ISSUED + timedelta(minutes=30)))
    custody.respond(request, ResponseIn(answers=answers, at=ISSUED + timedelta(hours=1)))
    return booking


def _eligible(custody: Custody, booking: str, officers: bool = False) -> str:
    document = {"reason": "bail", "at": "2017-05-02T09:00:00-05:00"}
    if officers:
        document["federal_officers_present"] = OFFICER  # type: ignore[assignment]
    return custody.release_eligible(booking, ReleaseIn.model_validate(document)).state


def test_a_declined_transfer_is_not_carried_out_during_the_hold(custody: Custody, clock: ManualClock) -> None:
    booking = _answered(
        custody, clock, "H-1", {Action.hold: Answer.honor, Action.notify: Answer.honor, Action.transfer: Answer.decline}
    )
    assert _eligible(custody, booking) == "held_on_detainer"
    with pytest.raises(RefusedByLaw, match="declined the transfer"):
        custody.transfer(booking, TransferIn.model_validate({"at": "2017-05-02T10:05:00-05:00", "officer": OFFICER}))
    assert custody.booking_view(booking)["state"] == "held_on_detainer"


def test_officers_present_at_release_do_not_take_a_person_whose_transfer_was_declined(
    custody: Custody, clock: ManualClock
) -> None:
    booking = _answered(custody, clock, "H-2", {Action.hold: Answer.honor, Action.transfer: Answer.decline})
    assert _eligible(custody, booking, officers=True) == "held_on_detainer"


def test_an_honored_hold_hands_over_when_the_transfer_was_not_asked(custody: Custody, clock: ManualClock) -> None:
    booking = _answered(custody, clock, "H-3", {Action.hold: Answer.honor, Action.notify: Answer.honor})
    assert _eligible(custody, booking) == "held_on_detainer"
    custody.transfer(booking, TransferIn.model_validate({"at": "2017-05-02T10:05:00-05:00", "officer": OFFICER}))
    assert custody.booking_view(booking)["state"] == "transferred"
    other = _answered(custody, clock, "H-4", {Action.hold: Answer.honor, Action.transfer: Answer.honor})
    assert _eligible(custody, other, officers=True) == "transferred"


@pytest.mark.parametrize(
    "answers",
    [{Action.hold: Answer.honor, Action.transfer: Answer.honor}, {Action.transfer: Answer.honor}],
    ids=["hold and transfer", "transfer alone"],
)
def test_officers_present_at_release_cannot_take_custody_on_an_i247a_never_served(
    custody: Custody, clock: ManualClock, answers: dict[Action, Answer]
) -> None:
    """Found by a review: the I-247A takes effect only once served, yet officers present at release
    took the person on one never served; with the transfer honored alone the person was released."""
    booking = _answered(custody, clock, "H-5", answers, served=False)
    with pytest.raises(RefusedByLaw, match="has no record of service"):
        _eligible(custody, booking, officers=True)
    assert custody.booking_view(booking)["state"] == "in_custody"


def test_an_i247a_never_served_holds_no_one_once_the_officer_says_so(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: the refusal said only "serve it first", and serving now, then recording
    eligibility now, held a person on a detainer that was not in effect when they were due out. The
    refusal now gives both honest ways on, in the agency's time; saying the copy was never served
    releases the person and records why the detainer held no one."""
    booking = _answered(custody, clock, "H-6", {Action.hold: Answer.honor, Action.transfer: Answer.honor}, served=False)
    with pytest.raises(RefusedByLaw) as refused:
        _eligible(custody, booking)
    assert "2017-05-02T09:00:00-05:00" in refused.value.detail  # Houston's time, not UTC
    assert "--at TIME" in refused.value.detail and "--detainer-not-served" in refused.value.detail
    # and as the web pages have them (found by a later review: the page was told of flags)
    assert "the release page's box 'An I-247A on record was never served'" in refused.value.detail
    assert "the detainer inbox's service form" in refused.value.detail
    document = {"reason": "bail", "at": "2017-05-02T09:00:00-05:00", "detainer_not_served": True}
    assert custody.release_eligible(booking, ReleaseIn.model_validate(document)).state == "released"
    view = custody.booking_view(booking)
    (not_in_effect,) = [e for e in view["timeline"] if e["type"] == "DetainerNotInEffect"]
    assert "not served" in not_in_effect["data"]["reason"]
    assert not view["holds"]


def test_a_copy_served_after_the_person_was_due_out_holds_no_one(custody: Custody, clock: ManualClock) -> None:
    """The first way on, with the real times: served after the moment of release, it was not in
    effect then, so the person goes free instead of being held from the moment of service."""
    booking = _answered(custody, clock, "H-7", {Action.hold: Answer.honor}, served=False)
    (request,) = custody.booking_view(booking)["requests"]
    custody.serve(request["id"], ServeIn.model_validate({"at": "2017-05-02T09:05:00-05:00"}))
    assert _eligible(custody, booking) == "released"


def test_refusals_say_what_happened_in_the_agency_s_time(custody: Custody, clock: ManualClock) -> None:
    """Found by a review: answering twice said "allowed now: cancel" (the federal side's act), a
    transfer after the person left advised recording release eligibility, and the hold's end was
    given in UTC."""
    booking = _answered(custody, clock, "H-8", {Action.hold: Answer.honor, Action.transfer: Answer.decline})
    (request,) = custody.booking_view(booking)["requests"]
    with pytest.raises(Conflict, match=r"was already answered at .*\(hold honor, transfer decline\)"):
        custody.respond(request["id"], ResponseIn(answers={Action.hold: Answer.honor}, at=ISSUED + timedelta(hours=2)))
    assert _eligible(custody, booking) == "held_on_detainer"
    (hold,) = custody.booking_view(booking)["holds"]
    houston = datetime.fromisoformat(hold["expires_at"]).astimezone(timezone(timedelta(hours=-5))).isoformat()
    with pytest.raises(RefusedByLaw, match=f"only until {re.escape(houston)}"):
        custody.transfer(booking, TransferIn.model_validate({"at": "2017-05-02T10:05:00-05:00", "officer": OFFICER}))
    custody.tick(datetime.fromisoformat(hold["expires_at"]) + timedelta(minutes=1))
    with pytest.raises(Conflict, match="left the agency's custody at 2017-05-04T09:00:00-05:00"):
        custody.transfer(booking, TransferIn.model_validate({"at": "2017-05-04T10:00:00-05:00", "officer": OFFICER}))
