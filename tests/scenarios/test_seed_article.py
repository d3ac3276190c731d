"""The seed article's three cases, end to end through booking, identification, federal request,
decision under law, response, and release or transfer, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from custody.domain.errors import RefusedByLaw
from custody.release.commands import TransferIn
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import EventRow


def _types(view: dict[str, Any]) -> list[str]:
    return [e["type"] for e in view["timeline"]]


def _decisions(custody: Custody, request_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from custody.store.models import DecisionRow

    with custody.unit() as unit:
        rows = unit.session.scalars(
            select(DecisionRow)
            .where(DecisionRow.request_id == request_id)
            .order_by(DecisionRow.recorded_at, DecisionRow.id)
        )
        return [r.result for r in rows]


def test_a_chicago_lockup_follows_the_2012_carve_outs_and_the_cook_county_jail_declines(custody: Custody) -> None:
    outcome = seed_scenarios.chicago_then_cook(custody)
    city, county = sorted(_decisions(custody, outcome.request_id), key=lambda d: d["agency"])[::-1]
    assert city["agency"].endswith("place:chicago") and county["agency"].endswith("county:cook")
    # The city lockup: the prior felony conviction is carve-out (c)(2) of the 2012 ordinance.
    for action in ("hold", "notify"):
        assert city["actions"][action]["status"] == "permitted"
        assert city["actions"][action]["citations"][0] == "Chicago Municipal Code § 2-173-042(c)(2)"
        assert "convicted of a felony" in city["actions"][action]["explanation"]
    # The county jail: Ordinance 11-O-73 bars the hold and the release-date notice.
    assert county["actions"]["hold"]["status"] == "prohibited"
    assert county["actions"]["hold"]["max_hours"] == 0
    assert county["actions"]["hold"]["citations"][0] == "Cook County Code § 46-37(a)"
    assert county["actions"]["notify"]["status"] == "prohibited"
    assert county["actions"]["notify"]["citations"][0] == "Cook County Code § 46-37(b)"
    assert county["on"] == "2017-08-16" and city["law_revision"] == county["law_revision"]

    view = custody.booking_view(outcome.booking_id)
    assert view["state"] == "released"
    types = _types(view)
    assert "IdentityMatched" in types and "ReleaseNoticeWithheld" in types
    assert "ReleaseNoticeSent" not in types and "DetainerHoldStarted" not in types
    withheld = next(e for e in view["timeline"] if e["type"] == "ReleaseNoticeWithheld")
    assert withheld["data"]["citations"][0] == "Cook County Code § 46-37(b)"
    answers = view["requests"][0]["response"]["answers"]
    assert {a: v["answer"] for a, v in answers.items()} == {
        "notify": "decline",
        "hold": "decline",
        "transfer": "decline",
    }
    _total, messages = custody.events_for("federal", 100, 0)
    assert [m["type"] for m in messages] == ["FingerprintsSubmitted", "RequestResponded"]
    matched = next(e for e in view["timeline"] if e["type"] == "IdentityMatched")
    assert matched["data"]["federal_record"]["a_number"].startswith("A")
    assert types.index("FingerprintsSubmitted") < types.index("IdentityMatched") < types.index("IdentificationReceived")


def test_b_miami_dade_honors_notifies_holds_and_transfers_within_48_hours(custody: Custody) -> None:
    outcome = seed_scenarios.miami_dade_transferred(custody)
    (decision,) = _decisions(custody, outcome.request_id)
    for action in ("hold", "notify", "transfer"):
        assert decision["actions"][action]["status"] == "required"
        assert decision["actions"][action]["citations"][0] == "Miami-Dade Mayoral Directive of 26 Jan 2017"
    assert decision["actions"]["hold"]["max_hours"] == 48
    view = custody.booking_view(outcome.booking_id)
    assert view["state"] == "transferred"
    types = _types(view)
    assert types.index("ReleaseNoticeSent") < types.index("DetainerHoldStarted") < types.index("CustodyTransferred")
    notice = next(e for e in view["timeline"] if e["type"] == "ReleaseNoticeSent")
    assert notice["data"]["advance_hours"] == 0, "no release was scheduled ahead, so the notice came at release"
    (hold,) = view["holds"]
    assert hold["state"] == "transferred"
    held = datetime.fromisoformat(hold["ended_at"]) - datetime.fromisoformat(hold["starts_at"])
    assert timedelta(0) < held <= timedelta(hours=48)
    assert view["requests"][0]["state"] == "fulfilled"


def test_c_miami_dade_hold_lapses_at_its_limit_when_no_one_comes(custody: Custody) -> None:
    outcome = seed_scenarios.miami_dade_lapsed(custody)
    view = custody.booking_view(outcome.booking_id)
    assert view["state"] == "released"
    (hold,) = view["holds"]
    assert hold["state"] == "lapsed"
    assert datetime.fromisoformat(hold["ended_at"]) - datetime.fromisoformat(hold["starts_at"]) == timedelta(hours=48)
    released = next(e for e in view["timeline"] if e["type"] == "PersonReleased")
    assert released["occurred_at"] == hold["expires_at"], "released at the limit, not when the timer ran"
    assert released["data"]["reason"] == "hold_lapsed"
    assert view["requests"][0]["state"] == "lapsed"
    with pytest.raises(
        Exception, match=r"booking .* is released: the person left the agency's custody at 2017-03-03T15:45:00-05:00"
    ):
        custody.transfer(
            outcome.booking_id,
            TransferIn.model_validate({"at": "2017-03-03T16:00:00-05:00", "officer": {"name": "late"}}),
        )


def test_officers_arriving_after_the_limit_cannot_take_a_person_the_timer_has_not_yet_released(
    custody: Custody,
) -> None:
    outcome = seed_scenarios._miami_dade_detained(custody, "FBI-LATE", "MDCR-LATE-1")
    with pytest.raises(RefusedByLaw, match="the person must be released"):
        custody.transfer(
            outcome.booking_id,
            TransferIn.model_validate({"at": "2017-03-03T15:46:00-05:00", "officer": {"name": "late"}}),
        )


def test_every_step_is_audited_and_the_chains_verify(custody: Custody) -> None:
    seed_scenarios.chicago_then_cook(custody)
    seed_scenarios.miami_dade_lapsed(custody)
    reports = custody.verify_audit()
    chains = {r.chain: r for r in reports}
    assert all(r.ok for r in reports)
    assert {"federal", seed_scenarios.CHICAGO, seed_scenarios.COOK, seed_scenarios.MIAMI_DADE} <= set(chains)
    assert chains[seed_scenarios.MIAMI_DADE].entries >= 9


def test_the_demo_tells_each_case_on_its_own_dates(tmp_path: Path) -> None:
    """What the process does in reply (the identification received, the detainer received and
    decided) carries the case's dates, not the day `./dev up` loaded the demo (a reporter saw a
    detainer "received" nine years after it was issued)."""
    from custody.sim.demo import load_demo

    service = Custody.open(f"sqlite:///{tmp_path / 'demo.db'}")
    assert load_demo(service)
    with service.read() as unit:
        years = {e.occurred_at.year for e in unit.session.scalars(select(EventRow))}
    assert years == {2017}
