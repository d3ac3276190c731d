"""The jail acts at release under the law in force that day. A detainer received on 10 March 2019
in Essex County, New Jersey, was decided under federal law alone; New Jersey's Immigrant Trust
Directive took effect on 15 March 2019, so a person eligible for release on 20 March may not be held
on it (Directive 2018-6, domain reference §3 row 12), whatever the jail answered on 10 March."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn
from custody.service import Custody
from tests.release.detainer import honored_detainer

ESSEX = "ocd-division/country:us/state:nj/county:essex"
DIRECTIVE = "N.J. Att'y Gen. Directive 2018-6"
SHOPLIFTING = {"offense": "shoplifting", "level": "misdemeanor", "violent": False, "serious": False}


def _honored_on_10_march(custody: Custody, clock: ManualClock, charge: dict[str, Any]) -> tuple[str, str]:
    """Booked, detained and every action honored on 10 March 2019, before the directive."""
    clock.set(datetime.fromisoformat("2019-03-10T08:00:00-04:00"))
    return honored_detainer(custody, ESSEX, "NJ-310", "2019-03-10T01:00:00-05:00", "2019-03-10T04:00:00-04:00", charge)


def _eligible(custody: Custody, clock: ManualClock, booking: str, at: str) -> dict[str, Any]:
    clock.set(datetime.fromisoformat(at))
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": at}))
    return custody.booking_view(booking)


def _events(view: dict[str, Any]) -> list[str]:
    return [e["type"] for e in view["timeline"]]


def test_a_hold_honored_before_the_directive_is_not_started_after_it(custody: Custody, clock: ManualClock) -> None:
    booking, request = _honored_on_10_march(custody, clock, SHOPLIFTING)
    view = _eligible(custody, clock, booking, "2019-03-20T09:00:00-04:00")

    assert view["state"] == "released"
    assert view["holds"] == []
    assert "RequestRedecided" in _events(view) and "DetainerHoldStarted" not in _events(view)
    assert "ReleaseNoticeWithheld" in _events(view) and "ReleaseNoticeSent" not in _events(view)
    answers = custody.request_view(request)["response"]["answers"]
    assert answers["hold"]["answer"] == "decline" and answers["hold"]["status"] == "prohibited"
    assert any(c.startswith(DIRECTIVE) for c in answers["hold"]["citations"])
    assert "2019-03-20" in answers["hold"]["reason"]
    assert custody.request_view(request)["decision"]["on"] == "2019-03-20"


def test_before_the_directive_took_effect_the_answer_stands(custody: Custody, clock: ManualClock) -> None:
    booking, request = _honored_on_10_march(custody, clock, SHOPLIFTING)
    view = _eligible(custody, clock, booking, "2019-03-14T09:00:00-04:00")

    assert view["state"] == "held_on_detainer"
    assert "RequestRedecided" not in _events(view)
    (hold,) = view["holds"]
    assert (hold["max_hours"], hold["hold_clock"]) == (48, "clock_hours")
    assert custody.request_view(request)["response"]["answers"]["hold"]["answer"] == "honor"


def test_a_serious_charge_keeps_the_hold_but_only_to_the_end_of_the_release_day(
    custody: Custody, clock: ManualClock
) -> None:
    booking, request = _honored_on_10_march(custody, clock, {"offense": "arson", "level": "felony", "serious": True})
    view = _eligible(custody, clock, booking, "2019-03-20T09:00:00-04:00")

    assert view["state"] == "held_on_detainer"
    (hold,) = view["holds"]
    assert hold["hold_clock"] == "until_end_of_release_day"
    assert datetime.fromisoformat(hold["expires_at"]) == datetime.fromisoformat("2019-03-20T23:59:00-04:00")
    answer = custody.request_view(request)["response"]["answers"]["hold"]
    assert answer["answer"] == "honor" and "shorter hold" in answer["reason"]
    assert "RequestRedecided" in _events(view)
