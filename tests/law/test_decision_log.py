"""Every decision is logged with its id, inputs, law revision and trace, audited on the agency's
chain, and explainable later by re-evaluating the logged inputs."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from custody.service import Custody
from custody.store.models import AuditEntryRow

DOC = json.loads((Path(__file__).resolve().parents[2] / "docs" / "examples" / "decision-request.json").read_text())


def test_a_decision_is_logged_audited_and_explained(custody: Custody) -> None:
    result = custody.decide(DOC)
    logged = custody.decision_log(result["decision_id"])
    assert logged is not None
    assert logged["inputs"] == DOC and logged["result"] == result
    with custody.unit() as unit:
        entry = unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "DecisionMade")).one()
    assert entry.chain == DOC["agency"] and entry.data["inputs"] == DOC
    assert entry.data["statuses"] == {"hold": "prohibited", "notify": "prohibited"}
    explained = custody.explain(result["decision_id"])
    assert explained["reevaluated"] is True
    considered = {i["instrument"]: i["why"] for i in explained["trace"]["instruments"]}
    assert considered["us-il-trust-act-2017"].startswith("not in force on 2017-08-16")
    steps = {s["rule"]: s["why"] for s in explained["trace"]["actions"]["hold"]}
    assert steps["us-il-cook-46-37-a"] == "gives prohibited; the decision rests on this rule"
    assert steps["us-8-cfr-287-7-d"] == "gives permitted"  # agrees with nothing decided: a prohibited hold has no limit
    deciding = [s["rule"] for s in explained["trace"]["actions"]["hold"] if s["decides"]]
    assert deciding == ["us-il-cook-46-37-a"]
    assert steps["us-form-i-247n-no-detention"] == "does not apply to these facts"
    assert all(r.ok for r in custody.verify_audit())


def test_the_trace_names_the_rule_that_wins_and_the_one_that_sets_the_hold_s_limit(custody: Custody) -> None:
    """Miami-Dade, 2019: 8 CFR 287.7(a) permits, Florida's statute and the Mayor's directive require;
    the hold is required on the two of them, and its 48 hours are 8 CFR 287.7(d)'s."""
    asked = {**DOC, "agency": "ocd-division/country:us/state:fl/county:miami-dade", "on": "2019-10-15"}
    explained = custody.explain(custody.decide(asked)["decision_id"])
    hold = {s["rule"]: s for s in explained["trace"]["actions"]["hold"]}
    assert [rule for rule, s in hold.items() if s["decides"]] == [
        "us-fl-908-105",
        "us-fl-miami-dade-directive-2017-honor",
    ]
    assert hold["us-8-cfr-287-7-a"]["why"] == "gives permitted"
    assert hold["us-8-cfr-287-7-d"]["why"] == "gives permitted; it sets the hold's limit (48 hours)"


def test_a_logged_decision_whose_inputs_are_now_refused_still_explains_itself(custody: Custody) -> None:
    """Found by a review: a decision logged before an input check was added could no longer be
    opened, as explaining re-decided its inputs and the check refused them."""
    from custody.store.models import DecisionRow

    made = custody.decide(DOC)
    with custody.unit() as unit:
        row = unit.session.get(DecisionRow, made["decision_id"])
        assert row is not None
        row.inputs = {**row.inputs, "on": "1990-01-01"}  # as a record from before the check
    explained = custody.explain(made["decision_id"])
    assert explained["reevaluated"] is False and "1990-01-01" in explained["note"]
    assert explained["trace"] == custody.decision_log(made["decision_id"])["trace"]  # type: ignore[index]
