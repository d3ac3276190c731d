"""Named conditions the rule files may test, in the words the laws use.

A rule file never contains code: it names a condition here (``felony_conviction``,
``warrant_in: [judicial_criminal]``) and may combine them with ``all``, ``any`` and ``not``. Each
condition answers True, False or None (a fact it needs was not given); None propagates by Kleene's
three-valued logic, so a decision that turns on a missing fact comes out ``undetermined`` with the
missing facts named, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from custody.domain.errors import InvalidInput


@dataclass(frozen=True)
class Truth:
    """A three-valued answer and, when unknown, the facts that would settle it."""

    value: bool | None
    missing: tuple[str, ...] = ()
    # How an offense was classified against a list (by its statute, or by the request's flags),
    # so the decision can say which was used.
    basis: tuple[str, ...] = ()


TRUE = Truth(True)
FALSE = Truth(False)

Facts = dict[str, Any]
Predicate = Callable[[Facts, Any], Truth]
_REGISTRY: dict[str, tuple[Predicate, str]] = {}


def condition(name: str, meaning: str) -> Callable[[Predicate], Predicate]:
    def register(fn: Predicate) -> Predicate:
        _REGISTRY[name] = (fn, meaning)
        return fn

    return register


def known_conditions() -> dict[str, str]:
    return {name: meaning for name, (_, meaning) in sorted(_REGISTRY.items())}


def _flag(path: str, value: Any) -> Truth:
    if value is None:
        return Truth(None, (path,))
    return TRUE if value else FALSE


def _person_flag(key: str) -> Predicate:
    def check(facts: Facts, _: Any) -> Truth:
        return _flag(f"person.{key}", facts["person"].get(key))

    return check


def _request_flag(key: str) -> Predicate:
    def check(facts: Facts, _: Any) -> Truth:
        return _flag(f"request.{key}", facts["request"].get(key))

    return check


for _key, _meaning in [
    ("outstanding_criminal_warrant", "the person has an outstanding criminal warrant"),
    ("gang_database", "the person is listed in a gang database"),
    ("registered_sex_offender", "the person is a registered sex offender"),
    ("juvenile", "the person is a juvenile"),
    ("watchlist_match", "the person possibly matches the federal terrorist screening database"),
    ("prior_removal_and_reentry", "the person was removed from the United States and re-entered"),
    ("final_removal_order", "the person is subject to a final order of removal"),
]:
    condition(_key, _meaning)(_person_flag(_key))

for _key, _meaning in [
    ("reimbursement_agreement", "a written federal agreement to reimburse the costs of compliance is in force"),
    ("consent_to_interview", "the person gave informed written consent to a federal interview"),
]:
    condition(_key, _meaning)(_request_flag(_key))


@condition("release_info_public", "the agency publishes the person's release date and time to the public")
def _release_info_public(facts: Facts, _: Any) -> Truth:
    return _flag("release_info_public", facts.get("release_info_public"))


@condition("warrant_in", "the request is backed by one of the listed kinds of warrant")
def _warrant_in(facts: Facts, kinds: Any) -> Truth:
    return TRUE if facts["request"]["warrant"] in _as_list(kinds) else FALSE


@condition("form_in", "the request is on one of the listed forms")
def _form_in(facts: Facts, forms: Any) -> Truth:
    return TRUE if facts["request"]["form"] in _as_list(forms) else FALSE


@condition("agency_kind_in", "the custodial agency is of one of the listed kinds")
def _agency_kind_in(facts: Facts, kinds: Any) -> Truth:
    return TRUE if facts["agency_kind"] in _as_list(kinds) else FALSE


@condition(
    "custody_status_in", "the person is in custody for one of the listed reasons (pretrial, serving_sentence...)"
)
def _custody_status_in(facts: Facts, statuses: Any) -> Truth:
    status = (facts.get("custody") or {}).get("status")
    if status is None:
        return Truth(None, ("custody.status",))
    return TRUE if status in _as_list(statuses) else FALSE


@condition("agreement", "the agency has the named agreement with the federal immigration agency in force")
def _agreement(facts: Facts, name: Any) -> Truth:
    return TRUE if name in facts["agency_agreements"] else FALSE


@condition(
    "conviction",
    "the person has a conviction matching every given property (level, degree, violent, serious, "
    "within_years of the decision date)",
)
def _conviction(facts: Facts, spec: Any) -> Truth:
    return _any_offense(facts, "convictions", spec or {})


@condition("pending_charge", "the person has a pending charge matching every given property")
def _pending_charge(facts: Facts, spec: Any) -> Truth:
    return _any_offense(facts, "pending_charges", spec or {})


@condition("felony_conviction", "the person has been convicted of a felony in any court")
def _felony_conviction(facts: Facts, _: Any) -> Truth:
    return _any_offense(facts, "convictions", {"level": "felony"})


@condition("pending_felony_charge", "a felony charge is pending against the person")
def _pending_felony_charge(facts: Facts, _: Any) -> Truth:
    return _any_offense(facts, "pending_charges", {"level": "felony"})


_OFFENSE_KEYS = {
    "level",
    "degree",
    "degree_in",
    "violent",
    "serious",
    "within_years",
    "released_within_years",
    "in_list",
}


@dataclass(frozen=True)
class OffenseList:
    """An offense list a law names (Cal. Gov. Code 7282.5(a), New York City's violent-or-serious
    crimes...). An offense is classified by its statute when it has one; otherwise by the request's
    flags, if the law's list can be read that way, and the decision says which was used."""

    id: str
    citation: str
    says: str
    statutes: tuple[str, ...]
    fallback_flags: tuple[str, ...] = ()
    verified: bool = True

    def classify(self, offense: dict[str, Any], prefix: str) -> Truth:
        statute = offense.get("statute")
        if statute:
            key = normalize_statute(statute)
            hit = next((s for s in self.statutes if _statute_matches(key, normalize_statute(s))), None)
            if hit:
                unverified = "" if self.verified else "; custody could not verify this list"
                return Truth(
                    True, basis=(f"'{statute}' is on the list of {self.citation} (classified by statute{unverified})",)
                )
            partial = "" if self.verified else "; custody could not verify that this list is complete"
            return Truth(
                False, basis=(f"'{statute}' is not on the list of {self.citation} (classified by statute{partial})",)
            )
        if not self.fallback_flags:
            return Truth(None, (prefix + "statute",))
        missing = [prefix + f for f in self.fallback_flags if offense.get(f) is None]
        flagged = [f for f in self.fallback_flags if offense.get(f) is True]
        how = f"no statute was given, so classified by the request's {'/'.join(self.fallback_flags)} flags"
        if flagged:
            return Truth(True, basis=(f"an offense counts under {self.citation}: {how}",))
        if missing:
            return Truth(None, (*missing, prefix + "statute"))
        return Truth(False, basis=(f"no offense counts under {self.citation}: {how}",))


def normalize_statute(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("section", "").replace("sec.", "") if ch.isalnum())


def _statute_matches(offense_key: str, list_key: str) -> bool:
    """'calpenalcode187a' is under 'calpenalcode187', but 'calpenalcode1870' is not."""
    if not offense_key.startswith(list_key):
        return False
    rest = offense_key[len(list_key) :]
    return not rest or not (rest[0].isdigit() and list_key[-1:].isdigit())


def _any_offense(facts: Facts, field: str, spec: dict[str, Any]) -> Truth:
    unknown = set(spec) - _OFFENSE_KEYS
    if unknown:
        raise InvalidInput(f"offense condition has unknown properties {sorted(unknown)}")
    missing: list[str] = []
    basis: list[str] = []
    for offense in facts["person"][field]:
        result = _offense_matches(offense, spec, facts, f"person.{field}[].")
        if result.value is True:
            return Truth(True, basis=result.basis)
        missing.extend(result.missing)
        basis.extend(result.basis)
    if missing:
        return Truth(None, tuple(dict.fromkeys(missing)))
    return Truth(False, basis=tuple(dict.fromkeys(basis)))


def _offense_matches(offense: dict[str, Any], spec: dict[str, Any], facts: Facts, prefix: str) -> Truth:
    missing: list[str] = []
    basis: tuple[str, ...] = ()
    on: date = facts["on"]
    for key, wanted in spec.items():
        if key in ("within_years", "released_within_years"):
            field = "date" if key == "within_years" else "released_on"
            when = offense.get(field)
            if when is None:
                missing.append(prefix + field)
            elif date.fromisoformat(when) < _years_before(on, int(wanted)):
                return FALSE
            continue
        if key == "in_list":
            offense_list: OffenseList = facts["_lists"][wanted]
            result = offense_list.classify(offense, prefix)
            if result.value is False:
                return result
            missing.extend(result.missing)
            basis = result.basis
            continue
        if key == "degree_in":
            if offense.get("degree") is None:
                missing.append(prefix + "degree")
            elif offense["degree"] not in _as_list(wanted):
                return FALSE
            continue
        have = offense.get(key)
        if have is None:
            missing.append(prefix + key)
        elif have != wanted:
            return FALSE
    return Truth(None, tuple(missing)) if missing else Truth(True, basis=basis)


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


# --- combinators -----------------------------------------------------------------------------

Condition = str | dict[str, Any] | list[Any]


def evaluate(cond: Condition | None, facts: Facts) -> Truth:
    if cond is None:
        return TRUE
    if isinstance(cond, str):
        return _call(cond, None, facts)
    if isinstance(cond, list):
        return _all(cond, facts)
    if len(cond) != 1:
        raise InvalidInput(f"a condition has exactly one key, got {sorted(cond)}")
    ((name, arg),) = cond.items()
    if name == "all":
        return _all(arg, facts)
    if name == "any":
        return _any(arg, facts)
    if name == "not":
        inner = evaluate(arg, facts)
        return inner if inner.value is None else Truth(not inner.value, basis=inner.basis)
    return _call(name, arg, facts)


def _call(name: str, arg: Any, facts: Facts) -> Truth:
    return _REGISTRY[name][0](facts, arg)


def _all(conds: Iterable[Condition], facts: Facts) -> Truth:
    missing: list[str] = []
    basis: list[str] = []
    for cond in conds:
        result = evaluate(cond, facts)
        if result.value is False:
            return result
        missing.extend(result.missing)
        basis.extend(result.basis)
    return Truth(None, tuple(dict.fromkeys(missing))) if missing else Truth(True, basis=tuple(basis))


def _any(conds: Iterable[Condition], facts: Facts) -> Truth:
    missing: list[str] = []
    basis: list[str] = []
    for cond in conds:
        result = evaluate(cond, facts)
        if result.value is True:
            return result
        missing.extend(result.missing)
        basis.extend(result.basis)
    return Truth(None, tuple(dict.fromkeys(missing))) if missing else Truth(False, basis=tuple(basis))


def check(cond: Condition | None, where: str) -> None:
    """Refuse, at load time, a rule file naming a condition custody does not know."""
    if cond is None or (isinstance(cond, str) and cond in _REGISTRY):
        return
    if isinstance(cond, str):
        raise InvalidInput(f"{where}: unknown condition '{cond}' (known: {', '.join(_REGISTRY)})")
    if isinstance(cond, list):
        for item in cond:
            check(item, where)
        return
    if not isinstance(cond, dict) or len(cond) != 1:
        raise InvalidInput(f"{where}: a condition is a name or a one-key mapping, got {cond!r}")
    ((name, arg),) = cond.items()
    if name in ("all", "any"):
        if not isinstance(arg, list):
            raise InvalidInput(f"{where}: '{name}' takes a list of conditions")
        for item in arg:
            check(item, where)
    elif name == "not":
        check(arg, where)
    elif name not in _REGISTRY:
        raise InvalidInput(f"{where}: unknown condition '{name}'")


# --- offenses classified by the request's flags ----------------------------------------------

_FLAG_NAMES = {"violent", "serious"}
_FLAGGED_KEYS = {"flags", "level", "degree_in", "within_years", "released_within_years"}


def _any_flagged(facts: Facts, field: str, spec: Any) -> Truth:
    """An offense the request flags (violent, serious) that matches every other given property.

    For laws whose offense list custody could not verify statute by statute (New York City's
    violent-or-serious crimes, Philadelphia's violent felonies of the first or second degree...):
    classifying by a partial statute list would call a listed offense unlisted, so these laws are
    read from the request's flags alone, and the decision says so.
    """
    if not isinstance(spec, dict) or not spec.get("flags"):
        raise InvalidInput("a flagged-offense condition needs 'flags', e.g. {flags: [violent, serious]}")
    flags = _as_list(spec["flags"])
    bad = set(spec) - _FLAGGED_KEYS or set(flags) - _FLAG_NAMES
    if bad:
        raise InvalidInput(f"flagged-offense condition has unknown properties or flags {sorted(bad)}")
    rest = {key: value for key, value in spec.items() if key != "flags"}
    prefix = f"person.{field}[]."
    how = (
        f"classified by the request's {'/'.join(flags)} flags, because custody holds no verified "
        "list of the statutes this law names"
    )
    missing: list[str] = []
    for offense in facts["person"][field]:
        props = _offense_matches(offense, rest, facts, prefix)
        if props.value is False:
            continue
        flagged = any(offense.get(f) is True for f in flags)
        unset = [prefix + f for f in flags if offense.get(f) is None]
        if not flagged and not unset:
            continue
        if flagged and props.value is True:
            return Truth(True, basis=(f"an offense counts: {how}",))
        missing.extend(props.missing)
        if not flagged:
            missing.extend(unset)
    if missing:
        return Truth(None, tuple(dict.fromkeys(missing)))
    return Truth(False, basis=(f"no offense counts: {how}",))


@condition(
    "conviction_flagged",
    "the person has a conviction the request flags with one of the given flags (violent, serious) that "
    "matches every other given property (level, degree_in, within_years, released_within_years)",
)
def _conviction_flagged(facts: Facts, spec: Any) -> Truth:
    return _any_flagged(facts, "convictions", spec)


@condition(
    "charge_flagged",
    "a pending charge against the person is flagged by the request with one of the given flags "
    "(violent, serious) and matches every other given property",
)
def _charge_flagged(facts: Facts, spec: Any) -> Truth:
    return _any_flagged(facts, "pending_charges", spec)
