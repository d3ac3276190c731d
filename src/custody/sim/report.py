"""The outcome report of a simulation, read back from the store the process wrote, and the side-by-side
comparison of a reform.

Every count here is of the simulated process: what custody's law decisions, holds and transfers did
to synthetic arrests drawn from public rates. None of it is an estimate of crime or of any effect on
public safety.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from custody.booking.model import CustodyState
from custody.requests.model import RequestState
from custody.sim import calibration as cal
from custody.store.models import BookingRow, DecisionRow, FederalRequestRow, HoldRow

CAVEAT = (
    "These are consequences of the simulated process (synthetic arrests drawn from public rates, decided "
    "under the law library), not estimates of crime or public-safety effects."
)
IN_FORCE = (RequestState.issued.value, RequestState.received.value, RequestState.decided.value,
            RequestState.responded.value, RequestState.lapsed.value, RequestState.closed.value)  # fmt: skip


def _at(divisions: set[str] | None) -> Any:
    """Bookings made at, or moved to, one of ``divisions`` (all when None)."""
    if divisions is None:
        return true()
    return or_(BookingRow.booking_agency.in_(divisions), BookingRow.agency.in_(divisions))


def measure(session: Session, end: datetime, divisions: set[str] | None = None) -> dict[str, Any]:
    """The process's outcomes for the bookings made at ``divisions`` (all when None)."""
    booked = select(BookingRow.id).where(_at(divisions))
    states = dict(
        session.execute(select(BookingRow.state, func.count()).where(_at(divisions)).group_by(BookingRow.state)).all()
    )
    statuses: Counter[tuple[str, str]] = Counter()
    answers: Counter[tuple[str, str]] = Counter()
    honored = declined = 0
    requests = session.execute(
        select(FederalRequestRow.state, FederalRequestRow.response, DecisionRow.result)
        .join(DecisionRow, DecisionRow.id == FederalRequestRow.decision_id, isouter=True)
        .where(FederalRequestRow.booking_id.in_(booked))
    ).all()
    request_states: Counter[str] = Counter()
    for state, response, result in requests:
        request_states[state] += 1
        for action, ruling in (result or {}).get("actions", {}).items():
            statuses[(action, ruling["status"])] += 1
        given = [a["answer"] for a in (response or {}).get("answers", {}).values()]
        for action, answer in (response or {}).get("answers", {}).items():
            answers[(action, answer["answer"])] += 1
        honored += "honor" in given
        declined += "decline" in given
    holds: Counter[str] = Counter()
    hours = 0.0
    for state, starts, ended in session.execute(
        select(HoldRow.state, HoldRow.starts_at, HoldRow.ended_at).where(HoldRow.booking_id.in_(booked))
    ):
        holds[state] += 1
        hours += max(((ended or end) - starts).total_seconds(), 0) / 3600
    released_with_request = session.scalar(
        select(func.count(func.distinct(FederalRequestRow.booking_id)))
        .join(BookingRow, BookingRow.id == FederalRequestRow.booking_id)
        .where(BookingRow.state == CustodyState.released.value, _at(divisions))
        .where(FederalRequestRow.state.in_(IN_FORCE))
    )
    return {
        "bookings": sum(states.values()),
        "booking_states": dict(sorted(states.items())),
        "requests": len(requests),
        "request_states": dict(sorted(request_states.items())),
        "requests_honored": honored,
        "requests_declined": declined,
        "decision_status": _nest(statuses),
        "answers": _nest(answers),
        "holds": sum(holds.values()),
        "hold_states": dict(sorted(holds.items())),
        "hold_hours": round(hours, 1),
        "hold_cost_usd": round(hours / 24 * cal.JAIL_COST_PER_DAY.value, 2),
        "transfers": states.get(CustodyState.transferred.value, 0),
        "lapses": holds.get("lapsed", 0),
        "releases": states.get(CustodyState.released.value, 0),
        "releases_with_active_request": released_with_request or 0,
    }


def _nest(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = defaultdict(dict)
    for (action, value), n in sorted(counts.items()):
        nested[action][value] = n
    return dict(nested)


def by_policy(session: Session, end: datetime, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Outcomes grouped by the booking agency's policy (what its law says of a plain detainer hold)."""
    groups: dict[str, set[str]] = defaultdict(set)
    for division, label in labels.items():
        groups[label].add(division)
    rows = []
    for label, divisions in sorted(groups.items()):
        m = measure(session, end, divisions)
        rows.append(
            {
                "policy": label,
                "agencies": len(divisions),
                "bookings": m["bookings"],
                "requests": m["requests"],
                "honored": m["requests_honored"],
                "declined": m["requests_declined"],
                "hold": m["decision_status"].get("hold", {}),
                "holds": m["holds"],
                "lapses": m["lapses"],
                "transfers": m["transfers"],
                "releases_with_active_request": m["releases_with_active_request"],
            }
        )
    return rows


COMPARED = (
    ("requests", "requests"),
    ("requests_honored", "requests honored (any action)"),
    ("requests_declined", "requests declined (any action)"),
    ("holds", "holds started"),
    ("hold_hours", "hold-hours"),
    ("hold_cost_usd", "jail cost of holds (USD)"),
    ("transfers", "transfers to federal custody"),
    ("lapses", "holds lapsed"),
    ("releases", "releases"),
    ("releases_with_active_request", "releases with a request in force"),
    ("rebookings", "re-bookings"),
)


def compare(base: dict[str, Any], reformed: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label in COMPARED:
        a, b = base.get(key, 0), reformed.get(key, 0)
        rows.append({"measure": label, "baseline": a, "reform": b, "difference": round(b - a, 2)})
    for action in sorted(set(base["decision_status"]) | set(reformed["decision_status"])):
        for status in ("required", "permitted", "prohibited", "undetermined"):
            a = base["decision_status"].get(action, {}).get(status, 0)
            b = reformed["decision_status"].get(action, {}).get(status, 0)
            if a or b:
                rows.append({"measure": f"{action}: {status}", "baseline": a, "reform": b, "difference": b - a})
    return rows
