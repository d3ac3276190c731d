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

How it stays fast (docs/law.md, "Performance"): the rules' conditions are compiled when the library
loads; the instruments binding an agency are worked out once per division, kind of agency and
stretch of dates between two changes of its law (a :class:`Plan`); each rule's answer for a request
is a small :class:`Verdict`, and an action's decision, which depends on nothing but the plan, the
form and the verdicts, is kept and reused for the next request with the same verdicts (each
decision still has its own id and log record). The trace is built only when someone reads it,
from the outcomes those same verdicts gave.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from custody.domain.divisions import Level, parse_division
from custody.domain.errors import InvalidInput
from custody.law.conditions import Facts
from custody.law.contract import facts_from_request
from custody.law.loader import Library, default_library
from custody.law.model import Action, Effect, Exception_, Form, HoldClock, Instrument, NotEncoded, Rule, Status

_PRECEDENCE = {Effect.permitted: 0, Effect.required: 1, Effect.prohibited: 2}
_STATUS_WORDS = {
    Status.required: "Required",
    Status.permitted: "Permitted",
    Status.prohibited: "Prohibited",
}
_BINDS = "binds this agency"
# Bounds on what is kept: requests may name any county or place of a state (each has its own
# plans), and a decision resting on a statute the request names is kept under that statute's
# classification, so neither is bounded by the library alone.
_KEPT_DIVISIONS = 1024
_KEPT_DECISIONS = 50_000


class Verdict(NamedTuple):
    """One rule's answer for one request: all that the decision needs from the facts."""

    fired: bool | None  # True: the rule gives ``effects``; False: it does not apply; None: unknown
    effects: frozenset[Effect]
    exception: int | None = None  # index of the exception that gave the effect, if one did
    missing: tuple[str, ...] = ()
    basis: tuple[str, ...] = ()


_NO_EFFECT: frozenset[Effect] = frozenset()
_DOES_NOT_APPLY = Verdict(False, _NO_EFFECT)
_ONLY = {effect: frozenset({effect}) for effect in Effect}
_GIVES = {effect: Verdict(True, _ONLY[effect]) for effect in Effect}  # the common verdicts, made once
_ACTIONS = {action.value: action for action in Action}
_ACTION_NAMES = {action: action.value for action in Action}  # Enum.value is a slow property


def _verdict(rule: Rule, facts: Facts) -> Verdict:
    """The rule's general effect, replaced by the first exception whose condition holds."""
    applies = rule.applies(facts)
    if applies.value is False:
        return _DOES_NOT_APPLY
    missing, basis = applies.missing, applies.basis
    # The rule may not apply at all, in which case it leaves the action permitted.
    may_not_apply = _ONLY[Effect.permitted] if applies.value is None else _NO_EFFECT
    uncertain = _NO_EFFECT  # effects of earlier exceptions whose conditions are unknown
    for index, exc in enumerate(rule.exceptions):
        result = exc.test(facts)
        basis += result.basis
        if result.value is True:
            outcomes = uncertain | _ONLY[exc.effect]
            if applies.value is True and len(outcomes) == 1:
                return Verdict(True, outcomes, index, basis=basis)
            # An earlier exception might still apply (this one holds only if that one does not), or
            # the rule itself might not apply at all.
            return _unknown(outcomes | may_not_apply, missing)
        if result.value is None:
            uncertain |= _ONLY[exc.effect]
            missing += result.missing
    if missing:
        return _unknown(_ONLY[rule.effect] | uncertain | may_not_apply, missing)
    return Verdict(True, _ONLY[rule.effect], basis=basis) if basis else _GIVES[rule.effect]


def _unknown(possible: frozenset[Effect], missing: tuple[str, ...]) -> Verdict:
    """A rule whose outcome turns on missing facts: the effects it might give, and the facts."""
    return Verdict(None, possible, missing=tuple(dict.fromkeys(missing)))


@dataclass(frozen=True)
class Outcome:
    """One rule's verdict read against the rule: the citations, summary and limits it carries."""

    rule: Rule
    instrument: Instrument
    verdict: Verdict
    preempted_by: str | None = None

    @property
    def fired(self) -> bool | None:
        return self.verdict.fired

    @property
    def effects(self) -> frozenset[Effect]:
        return self.verdict.effects

    @cached_property
    def effect(self) -> Effect | None:
        """The one effect the rule gives, or None while it could give several."""
        return next(iter(self.verdict.effects)) if len(self.verdict.effects) == 1 else None

    @property
    def missing(self) -> tuple[str, ...]:
        return self.verdict.missing

    @property
    def basis(self) -> tuple[str, ...]:
        return self.verdict.basis

    @property
    def citations(self) -> tuple[str, ...]:
        if self.fired is False:
            return ()
        exc = self._exception
        return (exc.citation, self.rule.citation) if exc else (self.rule.citation,)

    @property
    def ids(self) -> tuple[str, ...]:
        if self.fired is False:
            return ()
        exc = self._exception
        return (self.rule.id, exc.id) if exc else (self.rule.id,)

    @property
    def says(self) -> str:
        if self.fired is False:
            return ""
        exc = self._exception
        return exc.says if exc else self.rule.says

    @property
    def max_hours(self) -> float | None:
        exc = self._exception
        return exc.max_hours if exc else self.rule.max_hours

    @property
    def hold_clock(self) -> HoldClock | None:
        exc = self._exception
        return exc.hold_clock if exc and exc.hold_clock else self.rule.hold_clock

    @property
    def verified(self) -> bool:
        exc = self._exception
        return self.rule.verified and self.instrument.verified and (exc is None or exc.verified)

    @property
    def _exception(self) -> Exception_ | None:
        index = self.verdict.exception
        return None if index is None else self.rule.exceptions[index]


@dataclass(frozen=True)
class ActionDecision:
    """What the law says of one action. Decisions with the same verdicts share one of these, so it
    never changes once made."""

    status: Status
    citations: tuple[str, ...]
    rules: tuple[str, ...]
    explanation: str
    max_hours: float | None = None
    hold_clock: HoldClock | None = None
    missing: tuple[str, ...] = ()
    # The rules' outcomes, kept so the trace is built only when someone reads it (the decision log,
    # `custody law explain`), not on the hot path.
    outcomes: tuple[Outcome, ...] = ()
    # The rules the status rests on (those cited), and for a hold those that set its limit: the
    # trace names them, so a reader of a rule list sees which rule won and which only agreed.
    deciding: tuple[str, ...] = ()
    limiting: tuple[str, ...] = ()

    @cached_property
    def trace(self) -> list[dict[str, Any]]:
        """Each rule considered for the action and what it gave, and whether the decision rests on
        it: built when first read, then shared (read-only) by every decision with the same verdicts,
        like the decision itself."""
        return [_trace_entry(o, o.rule.id in self.deciding, o.rule.id in self.limiting) for o in self.outcomes]

    def to_contract(self) -> dict[str, Any]:
        """The action's part of the Decision JSON: a fresh dict each time, since the decision is shared."""
        out = {**self._contract, "citations": list(self.citations), "rules": list(self.rules)}
        if self.missing:
            out["missing"] = list(self.missing)
        return out

    @cached_property
    def _contract(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "citations": None,
            "rules": None,
            "explanation": self.explanation,
        }
        if self.max_hours is not None:
            out["max_hours"] = self.max_hours
        if self.hold_clock is not None:
            out["hold_clock"] = self.hold_clock.value
        return out


@dataclass(frozen=True, eq=False)
class Plan:
    """The law binding the agencies of one division and kind between two dates on which that law
    changes: worked out once, then read by every request it covers."""

    # Every instrument of every layer, outermost government first, with why it binds the agency
    # or not (None: not in force, which the trace says with the decision's date).
    considered: tuple[tuple[Instrument, str | None], ...]
    uncovered: tuple[str, ...]  # the layers with no law in the library
    # The rules that speak to each action, of the instruments that bind, in the order above.
    rules: dict[Action, tuple[tuple[Rule, Instrument], ...]]
    # Law known to govern each action on these dates that the library does not encode.
    not_encoded: dict[Action, tuple[NotEncoded, ...]] = field(default_factory=dict)
    # For an uncovered county or city spelt almost like one the library has: that one's id.
    nearest: str | None = None

    @cached_property
    def state_missing(self) -> tuple[str, ...]:
        return tuple(d for d in self.uncovered if parse_division(d).level in (Level.federal, Level.state))

    @cached_property
    def steps(self) -> tuple[tuple[Instrument, dict[str, Any] | None], ...]:
        """The trace's entry for each instrument considered, made once and shared (read-only); None
        for one not in force, whose entry names the decision's date."""
        return tuple(
            (i, {"instrument": i.id, "citation": i.citation, "why": why} if why else None) for i, why in self.considered
        )


@dataclass
class _Stretches:
    """The plans of one division and kind of agency, one per stretch of dates between two changes
    of its law (an instrument taking effect or ending), made when a request first falls in it."""

    layers: tuple[Instrument, ...]
    uncovered: tuple[str, ...]
    changes: list[date]
    not_encoded: tuple[NotEncoded, ...] = ()
    nearest: str | None = None
    plans: dict[int, Plan] = field(default_factory=dict)


@lru_cache(maxsize=_KEPT_DIVISIONS)
def _stretches(library: Library, agency: str, kind: str) -> _Stretches:
    layers: list[Instrument] = []
    uncovered: list[str] = []
    gaps: list[NotEncoded] = []
    for layer in parse_division(agency).layers():
        jurisdiction = library.jurisdiction(layer)
        if jurisdiction is None:
            uncovered.append(layer.id)
        else:
            layers.extend(jurisdiction.instruments)
            gaps.extend(g for g in jurisdiction.not_encoded if g.binds is None or kind in g.binds)
    spans = [*((i.effective_from, i.effective_to) for i in layers), *((g.effective_from, g.effective_to) for g in gaps)]
    changes = {when for span in spans for when in span if when is not None}
    nearest = next((n for d in uncovered if (n := library.nearest(d))), None)
    return _Stretches(tuple(layers), tuple(uncovered), sorted(changes), tuple(gaps), nearest)


def law_changes(agency: str, kind: str, library: Library | None = None) -> list[date]:
    """The dates on which the law binding an agency of this division and kind changes (an instrument,
    or law the library knows it does not encode, taking effect or ending): between two of them every
    request of the same facts is decided the same way."""
    return list(_stretches(library or default_library(), agency, kind).changes)


def _plan(library: Library, agency: str, kind: str, on: date) -> Plan:
    stretches = _stretches(library, agency, kind)
    stretch = bisect.bisect_right(stretches.changes, on)
    plan = stretches.plans.get(stretch)
    if plan is None:
        considered = tuple((i, _why(i, on, kind)) for i in stretches.layers)
        binding = [i for i, why in considered if why == _BINDS]
        rules = {a: tuple((rule, i) for i in binding for rule in i.rules if a in rule.actions) for a in Action}
        gaps = [g for g in stretches.not_encoded if g.in_force(on)]
        not_encoded = {a: tuple(g for g in gaps if a in g.actions) for a in Action}
        plan = stretches.plans[stretch] = Plan(considered, stretches.uncovered, rules, not_encoded, stretches.nearest)
    return plan


# Decisions already made, by (plan, action, form, verdicts of the plan's rules for the action, the gaps
# in the library that touch the request).
_decided: dict[tuple[Plan, Action, str, tuple[Verdict, ...], tuple[NotEncoded, ...]], ActionDecision] = {}


def _why(instrument: Instrument, on: date, kind: str) -> str | None:
    """Whether the instrument binds an agency of this kind on this date, and if not, why not;
    None if it is not in force (:func:`_not_in_force` says so for a given date)."""
    if not instrument.in_force(on):
        return None
    if instrument.binds is not None and kind not in instrument.binds:
        return f"binds only {', '.join(sorted(instrument.binds))}, not a {kind}"
    return _BINDS


def _not_in_force(instrument: Instrument, on: date) -> str:
    why = f"not in force on {on} (in force from {instrument.effective_from}"
    return why + (f" to {instrument.effective_to})" if instrument.effective_to else ")")


@dataclass(slots=True)
class Decision:
    decision_id: str
    agency: str
    on: date
    law_revision: str
    actions: dict[Action, ActionDecision]
    plan: Plan

    def to_contract(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "agency": self.agency,
            "on": self.on.isoformat(),
            "law_revision": self.law_revision,
            "actions": {_ACTION_NAMES[a]: d.to_contract() for a, d in self.actions.items()},
        }

    @property
    def considered(self) -> list[dict[str, Any]]:
        """Every instrument considered, and why it did or did not bind this agency."""
        return [
            step or {"instrument": i.id, "citation": i.citation, "why": _not_in_force(i, self.on)}
            for i, step in self.plan.steps
        ]

    def trace(self) -> dict[str, Any]:
        return {
            "instruments": self.considered,
            "actions": {_ACTION_NAMES[a]: d.trace for a, d in self.actions.items()},
        }


def new_decision_id() -> str:
    return f"dec_{os.urandom(16).hex()}"


def decide(
    document: Any, library: Library | None = None, decision_id: str | None = None, *, fresh: bool = False
) -> Decision:
    """Decide a DecisionRequest (a dict as the JSON contract has it). Invalid input raises InvalidInput.

    ``fresh`` works every action out from the rules instead of reusing a decision kept for the same
    verdicts, as re-evaluating a logged decision to explain it should: the trace then never rests on
    a kept answer."""
    library = library or default_library()
    facts = facts_from_request(document)
    first = library.first_law
    if first is not None and facts["on"] < first.effective_from:
        raise InvalidInput(
            f"custody's law library begins on {first.effective_from} ({first.citation}) and holds no law for "
            f"{facts['on']}: ask for a date from then on"
        )
    form = library.forms[facts["request"]["form"]]
    issued_unknown = _check_form_period(form, facts)
    plan = _plan(library, facts["agency"], facts["agency_kind"], facts["on"])
    actions: dict[Action, ActionDecision] = {}
    verdicts: dict[int, Verdict] = {}
    for name in facts["request"]["actions"]:
        action = _ACTIONS[name]
        if issued_unknown:
            decided = ActionDecision(
                status=Status.undetermined,
                citations=(form.citation,),
                rules=(),
                explanation=(
                    f"Undetermined: form {form.name} could only be issued {form.period()}; give "
                    f"request.issued_on so custody can tell whether this request is valid."
                ),
                missing=("request.issued_on",),
            )
        else:
            decided = _decide_action(action, plan, facts, form, verdicts, fresh)
        if plan.state_missing:
            # What federal law alone gives is said beside it, with its citations, for the reader who
            # knows the state's law (found by a review: the answer cited nothing at all).
            decided = ActionDecision(
                status=Status.undetermined,
                citations=decided.citations,
                rules=decided.rules,
                explanation=(
                    f"Undetermined: custody's law library holds no law of {plan.state_missing[0]}, so it "
                    "cannot say what that state's law allows; the decision needs that state's law encoded. "
                    f"Federal law alone gives {decided.status.value}: {decided.explanation}"
                ),
                missing=(*(f"law:{d}" for d in plan.state_missing), *decided.missing),
                outcomes=decided.outcomes,
                deciding=decided.deciding,
            )
        actions[action] = decided
    return Decision(
        decision_id=decision_id or new_decision_id(),
        agency=facts["agency"],
        on=facts["on"],
        law_revision=library.revision,
        actions=actions,
        plan=plan,
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


def _decide_action(
    action: Action, plan: Plan, facts: Facts, form: Form, verdicts: dict[int, Verdict], fresh: bool
) -> ActionDecision:
    """The decision for one action: the rules' verdicts on these facts (``verdicts`` keeps those
    of the request's other actions, by rule, as a rule may speak to several), then the decision
    those verdicts give, made once and kept."""
    rules = plan.rules[action]
    given = []
    for rule, _ in rules:
        verdict = verdicts.get(id(rule))
        if verdict is None:
            verdict = verdicts[id(rule)] = _verdict(rule, facts)
        given.append(verdict)
    warrant = facts["request"].get("warrant", "none")
    gaps = tuple(g for g in plan.not_encoded.get(action, ()) if g.touches(warrant))
    key = (plan, action, form.name, tuple(given), gaps)
    decided = None if fresh else _decided.get(key)
    if decided is None:
        outcomes = [Outcome(rule, instrument, v) for (rule, instrument), v in zip(rules, given, strict=True)]
        decided = _judge(action, outcomes, form, plan.uncovered, plan.nearest)
        if gaps:
            decided = _not_encoded(decided, gaps)
        if len(_decided) >= _KEPT_DECISIONS:
            _decided.clear()
        _decided[key] = decided
    return decided


def _judge(
    action: Action, outcomes: list[Outcome], form: Form, coverage: tuple[str, ...], nearest: str | None = None
) -> ActionDecision:
    """Combine the rules' outcomes for an action across the layers (the module docstring's 3-5)."""
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
        missing = tuple(dict.fromkeys(m for o in unknown for m in o.missing))
        cited = [c for o in _most_specific_first(unknown) for c in o.citations]
        return ActionDecision(
            status=Status.undetermined,
            citations=tuple(dict.fromkeys(cited)),
            rules=tuple(i for o in known + unknown for i in o.ids),
            explanation=f"Undetermined: {cited[0]} turns on {missing_in_words(missing)}.",
            missing=missing,
            outcomes=tuple(outcomes),
            deciding=tuple(o.rule.id for o in unknown),
        )
    final = high
    if final is None:
        coverage_note = f" No rule in custody's library speaks to '{action.value}' for this agency."
        return ActionDecision(
            status=Status.undetermined,
            citations=(),
            rules=(),
            explanation="Undetermined:" + coverage_note + " The law here is not encoded.",
            missing=tuple(f"law:{d}" for d in coverage) or ("law",),
            outcomes=tuple(outcomes),
        )
    deciding = [o for o in known + unknown if o.effect is final or (o.fired is None and final in o.effects)]
    deciding = _most_specific_first(deciding)
    status = Status(final.value)
    if status is Status.required:
        deciding += _most_specific_first(preemptions)
    max_hours: float | None = None
    hold_clock: HoldClock | None = None
    limiting: tuple[str, ...] = ()
    if action is Action.hold:
        if status is Status.prohibited:
            max_hours = 0
        else:
            limits = [o.max_hours for o in live if o.max_hours is not None]
            if form.hold_hours is not None:
                limits.append(form.hold_hours)
            max_hours = min(limits) if limits else None
            limiting = tuple(o.rule.id for o in live if o.max_hours is not None and o.max_hours == max_hours)
            clocks = [o.hold_clock for o in live if o.hold_clock is not None]
            hold_clock = HoldClock.strictest([*clocks, *([form.hold_clock] if form.hold_clock else [])])
    return ActionDecision(
        status=status,
        citations=tuple(dict.fromkeys(c for o in deciding for c in o.citations)),
        rules=tuple(i for o in known for i in o.ids),
        explanation=_explain(status, deciding, outcomes, coverage, nearest),
        max_hours=max_hours,
        hold_clock=hold_clock,
        outcomes=tuple(outcomes),
        deciding=tuple(o.rule.id for o in deciding),
        limiting=limiting,
    )


def missing_in_words(missing: Sequence[str]) -> str:
    """What an undetermined decision lacks, as a person can act on it: facts to give, and questions
    of law (``law:…``, an ``unsettled`` condition or law not encoded) that no fact settles."""
    facts = [m for m in missing if not m.startswith("law:")]
    questions = [m.removeprefix("law:") for m in missing if m.startswith("law:")]
    said = [f"facts that were not given ({', '.join(facts)}); give them and ask again"] if facts else []
    if questions:
        said.append(
            f"law custody does not settle ({'; '.join(questions)}); decide it from the law's own text, as no fact "
            "given here settles it"
        )
    return ", and on ".join(said) or "facts not on file"


def _not_encoded(encoded: ActionDecision, gaps: tuple[NotEncoded, ...]) -> ActionDecision:
    """Undetermined, naming the law the library lacks: what the encoded law alone gives is said
    beside it, for the reader who has the missing text, but is not the decision."""
    cited = [g.citation for g in gaps]
    return ActionDecision(
        status=Status.undetermined,
        citations=tuple(dict.fromkeys([*cited, *encoded.citations])),
        rules=encoded.rules,
        explanation=(
            f"Undetermined: {cited[0]} also governed this on this date, and custody's library does not "
            f"encode it ({gaps[0].why}); decide from its text. The encoded law alone gives "
            f"{encoded.status.value}: {encoded.explanation}"
        ),
        missing=tuple(f"law:{c}" for c in cited),
        outcomes=encoded.outcomes,
    )


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


def _explain(
    status: Status, deciding: list[Outcome], outcomes: list[Outcome], coverage: tuple[str, ...], nearest: str | None
) -> str:
    head = deciding[0]
    text = f"{_STATUS_WORDS[status]} under {head.citations[0]}: {head.says}"
    if not text.rstrip(")").endswith("."):  # "(… a prohibition.)" ends its sentence already
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
        text += (
            f" No local instrument of {local_missing[0]} is in custody's library; "
            "the law of the governments above it decided."
        )
        if nearest:
            text += f" If {nearest} was meant, its law is in the library: ask again with that id."
    return text


def _trace_entry(o: Outcome, decides: bool, limits: bool) -> dict[str, Any]:
    if o.preempted_by:
        why = f"preempted by {o.preempted_by}"
    elif o.fired is False:
        why = "does not apply to these facts"
    elif o.fired is None:
        why = f"turns on missing facts: {', '.join(o.missing)}"
    else:
        why = f"gives {o.effect.value if o.effect else '?'}"
    if decides:
        why += "; the decision rests on this rule"
    if limits:
        why += f"; it sets the hold's limit ({o.max_hours:g} hours)"
    return {
        "rule": o.rule.id,
        "instrument": o.instrument.id,
        "division": o.instrument.division.id,
        "citations": list(o.citations) or [o.rule.citation],
        "fired": o.fired,
        "effects": sorted(e.value for e in o.effects),
        "decides": decides,
        "why": why,
    }
