"""The outcome report of a simulation, read back from the store the process wrote, and the side-by-side
comparison of a reform.

Every count here is of the simulated process: what custody's law decisions, holds and transfers did
to synthetic arrests drawn from public rates. None of it is an estimate of crime or of any effect on
public safety.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from custody.booking.model import CustodyState
from custody.requests.model import RequestState
from custody.sim import calibration as cal
from custody.store.models import BookingRow, DecisionRow, FederalRequestRow, HoldRow

CAVEAT = (
    "These are consequences of the simulated process (synthetic arrests drawn from public rates, decided "
    "under the law library), not estimates of crime or public-safety effects."
)
# Found by a review: `custody stats outcomes` found 10 re-bookings within 30 days where the simulator
# reported 504. Following everyone would need each booking's ten-print search (about a CPU-second
# each, sim/print_search.py) so that the repository keeps the prints of those it finds no one for.
REBOOKINGS = (
    "Re-bookings here are counted from the simulated arrests. `custody stats outcomes` on this store follows a "
    "person only through the federal repository's identity, and the simulator books without prints and enrols "
    "only people with a federal record, so it sees only their re-bookings, a small part of these."
)
IN_FORCE = (RequestState.issued.value, RequestState.received.value, RequestState.decided.value,
            RequestState.responded.value, RequestState.lapsed.value, RequestState.closed.value)  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """Which bookings a figure counts: this run's (its booking numbers begin with its seed's prefix;
    a store may hold other runs), and of those the ones at or moved to ``divisions`` (a reform's
    division), or with ``booked_there`` only those its agencies booked (a policy's row, so that a
    person booked by the Chicago police and moved to the Cook County jail counts once)."""

    prefix: str
    divisions: frozenset[str] | None = None
    booked_there: bool = False

    def where(self) -> Any:
        own = BookingRow.booking_number.startswith(self.prefix)
        if self.divisions is None:
            return own
        if self.booked_there:
            return and_(own, BookingRow.booking_agency.in_(self.divisions))
        return and_(own, or_(BookingRow.booking_agency.in_(self.divisions), BookingRow.agency.in_(self.divisions)))


def measure(session: Session, end: datetime, scope: Scope) -> dict[str, Any]:
    """The process's outcomes for the bookings in ``scope``."""
    at = scope.where()
    booked = select(BookingRow.id).where(at)
    states = dict(session.execute(select(BookingRow.state, func.count()).where(at).group_by(BookingRow.state)).all())
    # A re-arrest's booking number ends "-r<generation>" (sim.arrests.ArrestStream.rearrest).
    rebookings = session.scalar(select(func.count()).where(at, BookingRow.booking_number.contains("-r")))
    statuses: Counter[tuple[str, str]] = Counter()
    answers: Counter[tuple[str, str]] = Counter()
    honored = declined = undetermined = 0
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
        given = (response or {}).get("answers", {})
        for action, answer in given.items():
            answers[(action, answer["answer"])] += 1
        honored += any(a["answer"] == "honor" for a in given.values())
        declined += any(a["answer"] == "decline" for a in given.values())
        undetermined += any(a["answer"] == "decline" and a["status"] == "undetermined" for a in given.values())
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
        .where(BookingRow.state == CustodyState.released.value, at)
        .where(FederalRequestRow.state.in_(IN_FORCE))
    )
    return {
        "bookings": sum(states.values()),
        "booking_states": dict(sorted(states.items())),
        "requests": len(requests),
        "request_states": dict(sorted(request_states.items())),
        "requests_honored": honored,
        "requests_declined": declined,
        # Declined because the law was undetermined, mostly a state whose law custody does not encode.
        "requests_declined_undetermined": undetermined,
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
        "rebookings": rebookings or 0,
    }


def _nest(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = defaultdict(dict)
    for (action, value), n in sorted(counts.items()):
        nested[action][value] = n
    return dict(nested)


def by_policy(session: Session, end: datetime, labels: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    """Outcomes grouped by the booking agency's policy (what its law says of a plain detainer hold)."""
    groups: dict[str, set[str]] = defaultdict(set)
    for division, label in labels.items():
        groups[label].add(division)
    rows = []
    for label, divisions in sorted(groups.items()):
        m = measure(session, end, Scope(prefix, frozenset(divisions), booked_there=True))
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
    ("bookings", "bookings (first arrests the same; re-arrests follow each run's releases)"),
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
