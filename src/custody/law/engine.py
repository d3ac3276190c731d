"""The decision: what the law in force on a date says an agency may do with a federal request.

How the layers combine (docs/law.md says the same in prose):

1. The binding law is federal law, the agency's state's law, and the instruments of the government
   that runs the agency (a county's bind the county jail, a city's the police); an instrument may
   bind only some kinds of agency (``binds``).
2. Each rule that speaks to the action states a general effect; its exceptions, in order, replace
   that effect under their named conditions.
3. A state rule that preempts local limits voids a local prohibition of the same action.
4. Across what is left, a prohibition prevails over a requirement, a requirement over a permission:
   a floor set by a higher government may be exceeded by a lower one, never lowered.
5. If a rule's outcome turns on a missing fact and the missing fact could change the result, the
   action is ``undetermined`` and the missing facts are listed.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from custody.domain.divisions import Division, Level, parse_division
from custody.domain.errors import InvalidInput
from custody.law.conditions import Facts, evaluate
from custody.law.contract import facts_from_request
from custody.law.loader import Library, default_library
from custody.law.model import Action, Effect, Form, HoldClock, Instrument, Rule, Status

_PRECEDENCE = {Effect.permitted: 0, Effect.required: 1, Effect.prohibited: 2}
_STATUS_WORDS = {
    Status.required: "Required",
    Status.permitted: "Permitted",
    Status.prohibited: "Prohibited",
}


@dataclass(frozen=True)
class Outcome:
    """One rule's answer for one action: the effect it gives, or the effects it might give."""

    rule: Rule
    instrument: Instrument
    fired: bool | None
    effects: frozenset[Effect]
    citations: tuple[str, ...]
    ids: tuple[str, ...]
    says: str
    max_hours: float | None
    verified: bool
    missing: tuple[str, ...] = ()
    preempted_by: str | None = None
    basis: tuple[str, ...] = ()
    # The one effect the rule gives, or None while it could give several: computed once, read often.
    effect: Effect | None = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "effect", next(iter(self.effects)) if len(self.effects) == 1 else None)


@dataclass
class ActionDecision:
    status: Status
    citations: list[str]
    rules: list[str]
    explanation: str
    max_hours: float | None = None
    hold_clock: HoldClock | None = None
    missing: list[str] = field(default_factory=list)
    # The rules' outcomes, kept so the trace is built only when someone reads it (the decision log,
    # `custody law explain`), not on the hot path.
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def trace(self) -> list[dict[str, Any]]:
        return [_trace_entry(o) for o in self.outcomes]

    def to_contract(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "citations": self.citations,
            "rules": self.rules,
            "explanation": self.explanation,
        }
        if self.max_hours is not None:
            out["max_hours"] = self.max_hours
        if self.hold_clock is not None:
            out["hold_clock"] = self.hold_clock.value
        if self.missing:
            out["missing"] = self.missing
        return out


@dataclass
class Decision:
    decision_id: str
    agency: str
    on: date
    law_revision: str
    actions: dict[Action, ActionDecision]
    considered: list[dict[str, Any]]

    def to_contract(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "agency": self.agency,
            "on": self.on.isoformat(),
            "law_revision": self.law_revision,
            "actions": {a.value: d.to_contract() for a, d in self.actions.items()},
        }

    def trace(self) -> dict[str, Any]:
        return {"instruments": self.considered, "actions": {a.value: d.trace for a, d in self.actions.items()}}


def new_decision_id() -> str:
    return f"dec_{uuid.uuid4().hex}"


def decide(document: Any, library: Library | None = None, decision_id: str | None = None) -> Decision:
    """Decide a DecisionRequest (a dict as the JSON contract has it). Invalid input raises InvalidInput."""
    library = library or default_library()
    facts = facts_from_request(document)
    facts["_lists"] = library.offense_lists
    division = parse_division(facts["agency"])
    form = library.forms[facts["request"]["form"]]
    issued_unknown = _check_form_period(form, facts)
    instruments, coverage, considered = _binding_instruments(library, division, facts)
    state_missing = [d for d in coverage if parse_division(d).level in (Level.federal, Level.state)]
    actions: dict[Action, ActionDecision] = {}
    for name in facts["request"]["actions"]:
        action = Action(name)
        if state_missing:
            actions[action] = ActionDecision(
                status=Status.undetermined,
                citations=[],
                rules=[],
                explanation=(
                    f"Undetermined: custody's law library holds no law of {state_missing[0]}, so it "
                    "cannot say what that state's law allows; the decision needs that state's law encoded."
                ),
                missing=[f"law:{d}" for d in state_missing],
            )
            continue
        if issued_unknown:
            actions[action] = ActionDecision(
                status=Status.undetermined,
                citations=[form.citation],
                rules=[],
                explanation=(
                    f"Undetermined: form {form.name} could only be issued {form.period()}; give "
                    f"request.issued_on so custody can tell whether this request is valid."
                ),
                missing=["request.issued_on"],
            )
            continue
        actions[action] = _decide_action(action, instruments, facts, form, coverage)
    return Decision(
        decision_id=decision_id or new_decision_id(),
        agency=facts["agency"],
        on=facts["on"],
        law_revision=library.revision,
        actions=actions,
        considered=considered,
    )


def _check_form_period(form: Form, facts: Facts) -> bool:
    """Refuse a form used outside its period; return True if the issue date is needed but missing."""
    issued = facts["request"].get("issued_on")
    if issued is not None:
        issued_on = date.fromisoformat(issued)
        if issued_on > facts["on"]:
            raise InvalidInput(f"request.issued_on {issued} is after the decision date {facts['on']}")
        if not form.in_use(issued_on):
            raise InvalidInput(f"form {form.name} was not in use on {issued} (in use {form.period()}; {form.citation})")
        return False
    on: date = facts["on"]
    if form.in_use_from is not None and on < form.in_use_from:
        raise InvalidInput(f"form {form.name} was not in use on {on} (in use {form.period()}; {form.citation})")
    return form.in_use_to is not None and on > form.in_use_to


def _binding_instruments(
    library: Library, division: Division, facts: Facts
) -> tuple[list[Instrument], list[str], list[dict[str, Any]]]:
    """The instruments in force that bind this agency, outermost government first; the divisions
    with no law in the library; and, for the trace, every instrument considered and why it did or
    did not bind."""
    instruments: list[Instrument] = []
    uncovered: list[str] = []
    considered: list[dict[str, Any]] = []
    for layer in division.layers():
        jurisdiction = library.jurisdiction(layer)
        if jurisdiction is None:
            uncovered.append(layer.id)
            continue
        for instrument in jurisdiction.instruments:
            if not instrument.in_force(facts["on"]):
                why = f"not in force on {facts['on']} (in force from {instrument.effective_from}"
                why += f" to {instrument.effective_to})" if instrument.effective_to else ")"
            elif instrument.binds is not None and facts["agency_kind"] not in instrument.binds:
                why = f"binds only {', '.join(sorted(instrument.binds))}, not a {facts['agency_kind']}"
            else:
                why = "binds this agency"
                instruments.append(instrument)
            considered.append({"instrument": instrument.id, "citation": instrument.citation, "why": why})
    return instruments, uncovered, considered


def _evaluate_rule(rule: Rule, instrument: Instrument, facts: Facts) -> Outcome:
    """The rule's general effect, replaced by the first exception whose condition holds."""
    verified = rule.verified and instrument.verified
    applies = evaluate(rule.applies_when, facts)
    if applies.value is False:
        return Outcome(rule, instrument, False, frozenset(), (), (), "", rule.max_hours, verified)
    possible = {rule.effect}
    missing = list(applies.missing)
    basis = list(applies.basis)
    uncertain: set[Effect] = set()  # effects of earlier exceptions whose conditions are unknown
    for exc in rule.exceptions:
        result = evaluate(exc.when, facts)
        basis.extend(result.basis)
        if result.value is True:
            outcomes = uncertain | {exc.effect}
            if applies.value is True and len(outcomes) == 1:
                return Outcome(
                    rule,
                    instrument,
                    True,
                    frozenset(outcomes),
                    (exc.citation, rule.citation),
                    (rule.id, exc.id),
                    exc.says,
                    exc.max_hours,
                    verified and exc.verified,
                    basis=tuple(basis),
                )
            # An earlier exception might still apply (this one holds only if that one does not), or
            # the rule itself might not apply at all.
            return _unknown(
                rule, instrument, outcomes | ({Effect.permitted} if applies.value is None else set()), missing, verified
            )
        if result.value is None:
            uncertain.add(exc.effect)
            possible.add(exc.effect)
            missing.extend(result.missing)
    if applies.value is None:
        possible.add(Effect.permitted)  # the rule may not apply at all
    if missing:
        return _unknown(rule, instrument, possible, missing, verified)
    return Outcome(
        rule,
        instrument,
        True,
        frozenset({rule.effect}),
        (rule.citation,),
        (rule.id,),
        rule.says,
        rule.max_hours,
        verified,
        basis=tuple(basis),
    )


def _unknown(rule: Rule, instrument: Instrument, possible: set[Effect], missing: list[str], verified: bool) -> Outcome:
    """A rule whose outcome turns on missing facts: the effects it might give, and the facts."""
    return Outcome(
        rule,
        instrument,
        None,
        frozenset(possible),
        (rule.citation,),
        (rule.id,),
        rule.says,
        rule.max_hours,
        verified,
        missing=tuple(dict.fromkeys(missing)),
    )


def _decide_action(
    action: Action, instruments: list[Instrument], facts: Facts, form: Form, coverage: list[str]
) -> ActionDecision:
    outcomes: list[Outcome] = []
    for instrument in instruments:
        for rule in instrument.rules:
            if action in rule.actions:
                outcomes.append(_evaluate_rule(rule, instrument, facts))
    outcomes = _apply_preemption(outcomes)
    live = [o for o in outcomes if o.fired is not False and o.preempted_by is None]
    preemptions = [o for o in live if o.effect is Effect.preempts_local_limits]
    live = [o for o in live if o.effect is not Effect.preempts_local_limits]
    known = [o for o in live if o.fired is True]
    unknown = [o for o in live if o.fired is None]

    def top(effects: list[Effect]) -> Effect | None:
        return max(effects, key=_PRECEDENCE.__getitem__) if effects else None

    floor = [o.effect for o in known if o.effect is not None]
    low = top(floor + [min(o.effects - {Effect.preempts_local_limits}, key=_PRECEDENCE.__getitem__) for o in unknown])
    high = top(floor + [max(o.effects - {Effect.preempts_local_limits}, key=_PRECEDENCE.__getitem__) for o in unknown])
    if unknown and low != high:
        missing = list(dict.fromkeys(m for o in unknown for m in o.missing))
        cited = [c for o in _most_specific_first(unknown) for c in o.citations]
        return ActionDecision(
            status=Status.undetermined,
            citations=list(dict.fromkeys(cited)),
            rules=[i for o in known + unknown for i in o.ids],
            explanation=(
                f"Undetermined: {cited[0]} turns on "
                f"facts that were not given ({', '.join(missing)}); give them and ask again."
            ),
            missing=missing,
            outcomes=outcomes,
        )
    final = high
    if final is None:
        coverage_note = f" No rule in custody's library speaks to '{action.value}' for this agency."
        return ActionDecision(
            status=Status.undetermined,
            citations=[],
            rules=[],
            explanation="Undetermined:" + coverage_note + " The law here is not encoded.",
            missing=[f"law:{d}" for d in coverage] or ["law"],
            outcomes=outcomes,
        )
    deciding = [o for o in known + unknown if o.effect is final or (o.fired is None and final in o.effects)]
    deciding = _most_specific_first(deciding)
    status = Status(final.value)
    if status is Status.required:
        deciding += _most_specific_first(preemptions)
    citations = list(dict.fromkeys(c for o in deciding for c in o.citations))
    decision = ActionDecision(
        status=status,
        citations=citations,
        rules=[i for o in known for i in o.ids],
        explanation=_explain(status, deciding, outcomes, coverage),
        outcomes=outcomes,
    )
    if action is Action.hold:
        if status is Status.prohibited:
            decision.max_hours = 0
        else:
            limits = [o.max_hours for o in live if o.max_hours is not None]
            if form.hold_hours is not None:
                limits.append(form.hold_hours)
            decision.max_hours = min(limits) if limits else None
            decision.hold_clock = form.hold_clock
    return decision


def _apply_preemption(outcomes: list[Outcome]) -> list[Outcome]:
    preempting = [
        o
        for o in outcomes
        if o.fired is True
        and o.effect is Effect.preempts_local_limits
        and o.instrument.level in (Level.federal, Level.state)
    ]
    if not preempting:
        return outcomes
    by = preempting[0].citations[0]
    result = []
    for o in outcomes:
        local = o.instrument.level in (Level.county, Level.place)
        if local and o.fired is not False and Effect.prohibited in o.effects:
            o = dataclasses.replace(o, preempted_by=by)
        result.append(o)
    return result


_SPECIFICITY = {Level.place: 0, Level.county: 0, Level.state: 1, Level.federal: 2}


def _most_specific_first(outcomes: list[Outcome]) -> list[Outcome]:
    return sorted(outcomes, key=lambda o: _SPECIFICITY[o.instrument.level])


def _explain(status: Status, deciding: list[Outcome], outcomes: list[Outcome], coverage: list[str]) -> str:
    head = deciding[0]
    text = f"{_STATUS_WORDS[status]} under {head.citations[0]}: {head.says}"
    if not text.endswith("."):
        text += "."
    also = list(dict.fromkeys(o.citations[0] for o in deciding[1:] if o.citations[0] != head.citations[0]))
    if also:
        text += f" Also: {'; '.join(also)}."
    preempted = [o for o in outcomes if o.preempted_by]
    if preempted:
        text += f" The local limit in {preempted[0].citations[0]} is preempted by {preempted[0].preempted_by}."
    basis = list(dict.fromkeys(b for o in deciding for b in o.basis))
    if basis:
        text += " " + " ".join(b[0].upper() + b[1:] + "." for b in basis)
    unverified = [o.citations[0] for o in deciding if not o.verified]
    if unverified:
        text += (
            f" This rests on {', '.join(dict.fromkeys(unverified))}, which custody could not verify "
            "against the official text; check it before relying on it."
        )
    local_missing = [d for d in coverage if parse_division(d).level in (Level.county, Level.place)]
    if local_missing:
        text += f" No local instrument of {local_missing[0]} is in custody's library; federal and state law decided."
    return text


def _trace_entry(o: Outcome) -> dict[str, Any]:
    if o.preempted_by:
        why = f"preempted by {o.preempted_by}"
    elif o.fired is False:
        why = "does not apply to these facts"
    elif o.fired is None:
        why = f"turns on missing facts: {', '.join(o.missing)}"
    else:
        why = f"gives {o.effect.value if o.effect else '?'}"
    return {
        "rule": o.rule.id,
        "instrument": o.instrument.id,
        "division": o.instrument.division.id,
        "citations": list(o.citations) or [o.rule.citation],
        "fired": o.fired,
        "effects": sorted(e.value for e in o.effects),
        "why": why,
    }
