"""Jurisdictions' policy status over time, from the law library: each instrument's dates and what its
own general rules say about holds, notices and transfers.

This is a timeline of instruments, not a decision: an agency's answer on a date combines every layer
(federal, state, county, city) and the exceptions, which is what `custody law decide` does.
"""

from __future__ import annotations

from typing import Any

from custody.law.loader import Library
from custody.law.model import Action

ACTIONS = (Action.hold, Action.notify, Action.transfer)


def policy_timeline(library: Library) -> list[dict[str, Any]]:
    rows = []
    seen = set()
    for jurisdiction in library.jurisdictions.values():
        if jurisdiction.division in seen:  # aliases point at the same jurisdiction
            continue
        seen.add(jurisdiction.division)
        for instrument in sorted(jurisdiction.instruments, key=lambda i: i.effective_from):
            effects: dict[str, str] = {}
            for rule in instrument.rules:
                for action in ACTIONS:
                    if action in rule.actions and action.value not in effects:
                        note = f" ({len(rule.exceptions)} exception(s))" if rule.exceptions else ""
                        effects[action.value] = rule.effect.value + note
            rows.append(
                {
                    "jurisdiction": jurisdiction.name,
                    "division": str(jurisdiction.division),
                    "instrument": instrument.name,
                    "citation": instrument.citation,
                    "from": instrument.effective_from.isoformat(),
                    "to": instrument.effective_to.isoformat() if instrument.effective_to else None,
                    "verified": instrument.verified,
                    **{a.value: effects.get(a.value, "") for a in ACTIONS},
                }
            )
    return sorted(rows, key=lambda r: (r["jurisdiction"], r["from"]))
