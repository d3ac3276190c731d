"""Jurisdictions' policy status over time, from the law library: each instrument's dates and what its
own general rules say about holds, notices and transfers.

This is a timeline of instruments, not a decision: an agency's answer on a date combines every layer
(federal, state, county, city) and the exceptions, which is what `custody law decide` does.
"""

from __future__ import annotations

from typing import Any

from custody.law.conditions import Condition
from custody.law.loader import Library
from custody.law.model import Action, Rule

ACTIONS = (Action.hold, Action.notify, Action.transfer)


def policy_timeline(library: Library) -> list[dict[str, Any]]:
    rows = []
    seen = set()
    for jurisdiction in library.jurisdictions.values():
        if jurisdiction.division in seen:  # aliases point at the same jurisdiction
            continue
        seen.add(jurisdiction.division)
        for instrument in sorted(jurisdiction.instruments, key=lambda i: i.effective_from):
            # Every rule on an action, with its condition and whether custody verified it (found by a
            # review: the first rule alone was shown, with no condition, and unverified readings
            # looked verified beside an instrument marked verified).
            effects: dict[str, list[str]] = {}
            for rule in instrument.rules:
                for action in ACTIONS:
                    if action in rule.actions:
                        effects.setdefault(action.value, []).append(_reading(rule))
            rows.append(
                {
                    "jurisdiction": jurisdiction.name,
                    "division": str(jurisdiction.division),
                    "instrument": instrument.name,
                    "citation": instrument.citation,
                    "from": instrument.effective_from.isoformat(),
                    "to": instrument.effective_to.isoformat() if instrument.effective_to else None,
                    "verified": instrument.verified,
                    **{a.value: "; ".join(effects.get(a.value, [])) for a in ACTIONS},
                }
            )
    return sorted(rows, key=lambda r: (r["jurisdiction"], r["from"]))


def _reading(rule: Rule) -> str:
    """One rule as the table shows it: "prohibited when warrant_in none, administrative (1 exception(s))
    [unverified]"."""
    when = f" when {_condition(rule.applies_when)}" if rule.applies_when is not None else ""
    exceptions = f" ({len(rule.exceptions)} exception(s))" if rule.exceptions else ""
    unverified = " [unverified]" if not rule.verified or not all(e.verified for e in rule.exceptions) else ""
    open_question = (
        " [an exception turns on a question of law custody does not settle]"
        if any("unsettled" in _names(e.when) for e in rule.exceptions)
        else ""
    )
    return f"{rule.effect.value}{when}{exceptions}{unverified}{open_question}"


def _names(condition: Condition) -> set[str]:
    """Every condition named in ``condition``, however nested."""
    if isinstance(condition, str):
        return {condition}
    if isinstance(condition, list):
        return {n for c in condition for n in _names(c)}
    ((name, argument),) = condition.items()
    inner = argument if name in ("all", "any") else [argument] if name == "not" else []
    return {name} | {n for c in inner for n in _names(c)}


def _condition(condition: Condition) -> str:
    if isinstance(condition, str):
        return condition
    if isinstance(condition, list):
        return _condition({"all": condition})
    ((name, argument),) = condition.items()
    if name in ("all", "any"):
        return "(" + f" {'and' if name == 'all' else 'or'} ".join(_condition(c) for c in argument) + ")"
    if name == "not":
        return f"not ({_condition(argument)})"
    if isinstance(argument, dict):
        shown = ", ".join(f"{k} {v}" for k, v in argument.items())
    else:
        shown = ", ".join(str(a) for a in argument) if isinstance(argument, list) else str(argument)
    return f"{name} {shown}"
