"""The decision log (Open Policy Agent's model): every decision stored with its id, inputs,
result, law revision and trace, and an audit entry on the deciding agency's chain, so that anyone
can later ask why (`custody law explain DECISION_ID`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from custody.law.engine import Decision
from custody.store.models import DecisionRow
from custody.store.unit import Unit


def decision_row(
    decision: Decision, inputs: dict[str, Any], request_id: str | None, recorded_at: datetime | None
) -> DecisionRow:
    """The decision-log record: what is stored, and what the benchmark builds per decision."""
    return DecisionRow(
        id=decision.decision_id,
        request_id=request_id,
        agency=decision.agency,
        on=decision.on,
        law_revision=decision.law_revision,
        inputs=inputs,
        result=decision.to_contract(),
        trace=decision.trace(),
        recorded_at=recorded_at,
    )


def log_decision(unit: Unit, decision: Decision, inputs: dict[str, Any], request_id: str | None = None) -> None:
    recorded_at = unit.clock.now()
    row = decision_row(decision, inputs, request_id, recorded_at)
    result = row.result
    unit.session.add(row)
    unit.record(
        decision.agency,
        recorded_at=recorded_at,
        action="DecisionMade",
        subject=f"decision:{decision.decision_id}",
        data={
            "decision_id": decision.decision_id,
            "request_id": request_id,
            "law_revision": decision.law_revision,
            "inputs": inputs,
            "statuses": {a: d["status"] for a, d in result["actions"].items()},
        },
    )
