"""Reading the library as a lawyer would: what is in force for a division on a date, and what
changed between two dates and by which instrument."""

from __future__ import annotations

from datetime import date
from typing import Any

from custody.domain.divisions import Division
from custody.domain.errors import InvalidInput
from custody.law.loader import Library
from custody.law.model import Instrument, Rule


def _rule_view(rule: Rule) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": rule.id,
        "citation": rule.citation,
        "says": rule.says,
        "actions": sorted(a.value for a in rule.actions),
        "effect": rule.effect.value,
        "verified": rule.verified,
    }
    if rule.applies_when is not None:
        view["applies_when"] = rule.applies_when
    if rule.max_hours is not None:
        view["max_hours"] = rule.max_hours
    if rule.exceptions:
        view["exceptions"] = [
            {
                "id": e.id,
                "citation": e.citation,
                "says": e.says,
                "when": e.when,
                "effect": e.effect.value,
                "verified": e.verified,
            }
            for e in rule.exceptions
        ]
    return view


def instrument_view(instrument: Instrument, with_rules: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": instrument.id,
        "name": instrument.name,
        "citation": instrument.citation,
        "url": instrument.url,
        "division": instrument.division.id,
        "enacted": instrument.enacted.isoformat() if instrument.enacted else None,
        "effective_from": instrument.effective_from.isoformat(),
        "effective_to": instrument.effective_to.isoformat() if instrument.effective_to else None,
        "repealed_by": instrument.repealed_by,
        "binds": sorted(instrument.binds) if instrument.binds else "every agency of this government",
        "verified": instrument.verified,
        # How the instrument sits beside the others (what prevails, what is not encoded and why).
        "notes": instrument.notes or None,
    }
    if with_rules:
        view["rules"] = [_rule_view(r) for r in instrument.rules]
    return view


def _instruments(library: Library, division: Division) -> list[Instrument]:
    found: list[Instrument] = []
    for layer in division.layers():
        jurisdiction = library.jurisdiction(layer)
        if jurisdiction is not None:
            found.extend(jurisdiction.instruments)
    return found


def in_force(library: Library, division: Division, on: date) -> dict[str, Any]:
    """Every instrument of every layer binding an agency of ``division`` that is in force on ``on``."""
    layers = [{"division": layer.id, "encoded": library.jurisdiction(layer) is not None} for layer in division.layers()]
    return {
        "division": division.id,
        "on": on.isoformat(),
        "law_revision": library.revision,
        "layers": layers,
        "instruments": [instrument_view(i) for i in _instruments(library, division) if i.in_force(on)],
        "not_encoded": [
            {
                "citation": gap.citation,
                "actions": sorted(a.value for a in gap.actions),
                "binds": sorted(gap.binds) if gap.binds else "every agency",
                "why": gap.why,
            }
            for layer in division.layers()
            if (jurisdiction := library.jurisdiction(layer)) is not None
            for gap in jurisdiction.not_encoded
            if gap.in_force(on)
        ],
        "forms_in_use": [f.name for f in library.forms.values() if f.in_use(on)],
    }


def diff(library: Library, division: Division, start: date, end: date) -> dict[str, Any]:
    """Instruments that took effect or ended after ``start`` and up to ``end``, in date order."""
    if end < start:
        raise InvalidInput(f"the end of the range ({end}) is before its start ({start}); give the earlier date first")
    changes = []
    for instrument in _instruments(library, division):
        events = [("took effect", instrument.effective_from)]
        if instrument.effective_to is not None:
            events.append(("ended", instrument.effective_to))
        for change, when in events:
            if not start < when <= end:
                continue
            entry = {"change": change, "on": when.isoformat(), **instrument_view(instrument, with_rules=False)}
            entry["rules"] = [
                {
                    "id": r.id,
                    "citation": r.citation,
                    "effect": r.effect.value,
                    "actions": sorted(a.value for a in r.actions),
                }
                for r in instrument.rules
            ]
            changes.append(entry)
    changes.sort(key=lambda c: (c["on"], c["id"]))
    return {
        "division": division.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "law_revision": library.revision,
        "changes": changes,
        "not_encoded_changes": _gap_changes(library, division, start, end),
    }


def _gap_changes(library: Library, division: Division, start: date, end: date) -> list[dict[str, Any]]:
    """Law known but not encoded that began or ended in the range: decisions across it change to or
    from undetermined, which a reader of the diff should see as much as an instrument's change."""
    found = []
    for layer in division.layers():
        jurisdiction = library.jurisdiction(layer)
        for gap in jurisdiction.not_encoded if jurisdiction else ():
            for change, when in (("in force, not encoded", gap.effective_from), ("ended", gap.effective_to)):
                if when is not None and start < when <= end:
                    actions = sorted(a.value for a in gap.actions)
                    found.append(
                        {"change": change, "on": when.isoformat(), "citation": gap.citation, "actions": actions}
                    )
    return sorted(found, key=lambda c: (c["on"], c["citation"]))
