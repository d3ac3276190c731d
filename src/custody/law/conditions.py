"""Named conditions the rule files may test, in the words the laws use.

A rule file never contains code: it names a condition here (``felony_conviction``,
``warrant_in: [judicial_criminal]``) and may combine them with ``all``, ``any`` and ``not``. Each
condition answers True, False or None (a fact it needs was not given); None propagates by Kleene's
three-valued logic, so a decision that turns on a missing fact comes out ``undetermined`` with the
missing facts named, never guessed.

The library compiles each rule's conditions once, when it loads (:func:`compile_condition`), into
plain Python closures: a malformed condition is refused at load time with the rule named, and
deciding a request only calls the closures, never re-reads the rule file's structure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from custody.domain.errors import InvalidInput
from custody.law.contract import field_default


class Truth(NamedTuple):
    """A three-valued answer and, when unknown, the facts that would settle it. A tuple, so that a
    rule's answers can key the engine's table of decisions already made."""

    value: bool | None
    missing: tuple[str, ...] = ()
    # How an offense was classified against a list (by its statute, or by the request's flags),
    # so the decision can say which was used.
    basis: tuple[str, ...] = ()


TRUE = Truth(True)
FALSE = Truth(False)

Facts = dict[str, Any]
# A compiled condition: the facts of one request in, its answer out.
Test = Callable[[Facts], Truth]


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
    # The statutes as compared, and the answers by the request's flags, made once when the list loads.
    keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    by_flags: tuple[Truth, Truth] = field(init=False, repr=False, compare=False)  # (counts, does not)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(normalize_statute(s) for s in self.statutes))
        flags = " or ".join(self.fallback_flags)
        how = f"no statute was given, so custody went by the request's {flags} flag"
        counts = Truth(True, basis=(f"an offense is on the list of {self.citation} ({how})",))
        does_not = Truth(False, basis=(f"no offense is on the list of {self.citation} ({how})",))
        object.__setattr__(self, "by_flags", (counts, does_not))

    def classify(self, offense: dict[str, Any], prefix: str) -> Truth:
        statute = offense.get("statute")
        if statute:
            key = self._in_list_terms(normalize_statute(statute))
            if key is None:
                # Found by a review: "Cal. Pen. Code § 459" was "not on the list" that names Cal. Penal
                # Code 459, and the action prohibited, for the way the code was written.
                codes = " or ".join(sorted({_CODE_NAME.split(s)[0].strip(" ,§") for s in self.statutes}))
                return Truth(
                    None,
                    (prefix + "statute",),
                    basis=(f"'{statute}' does not name one code the list of {self.citation} uses ({codes})",),
                )
            if any(_statute_matches(key, listed) for listed in self.keys):
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
        if any(offense.get(f) is True for f in self.fallback_flags):
            return self.by_flags[0]
        missing = [prefix + f for f in self.fallback_flags if offense.get(f) is None]
        if missing:
            return Truth(None, (*missing, prefix + "statute"))
        return self.by_flags[1]

    def _in_list_terms(self, key: str) -> str | None:
        """The statute with its code named as the list names it ("Penal Code 459" in California's
        list is Cal. Penal Code 459); None when it names a code the list does not use."""
        code = _code_of(key)
        named = [listed for listed in sorted({_code_of(k) for k in self.keys}) if code and listed.endswith(code)]
        # Exactly one: "Code 459" ends both Cal. Penal Code and Cal. Veh. Code, and which one it
        # was read as followed the order of a set (found by a review).
        return named[0] + key[len(code) :] if len(named) == 1 else None


OffenseLists = Mapping[str, OffenseList]
# Turns a condition's argument in a rule file into its Test; ``where`` names the rule in errors.
Compiler = Callable[[Any, OffenseLists, str], Test]
_REGISTRY: dict[str, tuple[Compiler, str]] = {}


def condition(name: str, meaning: str) -> Callable[[Compiler], Compiler]:
    def register(fn: Compiler) -> Compiler:
        _REGISTRY[name] = (fn, meaning)
        return fn

    return register


def _flag(*path: str) -> Compiler:
    """A yes/no fact of the request; one with a default in the DecisionRequest schema is asserted
    by its absence, one without is missing when absent."""
    default = field_default(*path)
    name = ".".join(path)

    def compile_flag(_: Any, __: OffenseLists, ___: str) -> Test:
        if len(path) == 1:
            (key,) = path

            def top(facts: Facts) -> Truth:
                return _truth(facts.get(key, default), name)

            return top
        part, key = path

        def nested(facts: Facts) -> Truth:
            return _truth(facts[part].get(key, default), name)

        return nested

    return compile_flag


def _truth(value: Any, name: str) -> Truth:
    if value is None:
        return Truth(None, (name,))
    return TRUE if value else FALSE


for _key, _meaning in [
    ("outstanding_criminal_warrant", "the person has an outstanding criminal warrant"),
    ("gang_database", "the person is listed in a gang database"),
    ("registered_sex_offender", "the person is a registered sex offender"),
    ("juvenile", "the person is a juvenile"),
    ("watchlist_match", "the person possibly matches the federal terrorist screening database"),
    ("prior_removal_and_reentry", "the person was removed from the United States and re-entered"),
    ("final_removal_order", "the person is subject to a final order of removal"),
]:
    condition(_key, _meaning)(_flag("person", _key))

for _key, _meaning in [
    ("reimbursement_agreement", "a written federal agreement to reimburse the costs of compliance is in force"),
    ("consent_to_interview", "the person gave informed written consent to a federal interview"),
]:
    condition(_key, _meaning)(_flag("request", _key))

condition("release_info_public", "the agency publishes the person's release date and time to the public")(
    _flag("release_info_public")
)


def _one_of(read: Callable[[Facts], Any]) -> Compiler:
    """A condition met when the fact ``read`` takes is one of the values the rule lists."""

    def compile_one_of(values: Any, _: OffenseLists, __: str) -> Test:
        wanted = tuple(_as_list(values))

        def test(facts: Facts) -> Truth:
            return TRUE if read(facts) in wanted else FALSE

        return test

    return compile_one_of


@condition(
    "unsettled",
    "a question of law the sources custody read answer differently (the argument states it); custody "
    "does not settle it, so a decision that turns on it is undetermined and names it",
)
def _unsettled(question: Any, _: OffenseLists, where: str) -> Test:
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput(f"{where}: unsettled takes the question of law, in words")
    open_question = Truth(None, (f"law:{' '.join(question.split())}",))

    def test(_: Facts) -> Truth:
        return open_question

    return test


condition("warrant_in", "the request is backed by one of the listed kinds of warrant")(
    _one_of(lambda facts: facts["request"]["warrant"])
)
condition("form_in", "the request is on one of the listed forms")(_one_of(lambda facts: facts["request"]["form"]))
condition("agency_kind_in", "the custodial agency is of one of the listed kinds")(
    _one_of(lambda facts: facts["agency_kind"])
)


@condition(
    "custody_status_in", "the person is in custody for one of the listed reasons (pretrial, serving_sentence...)"
)
def _custody_status_in(statuses: Any, _: OffenseLists, __: str) -> Test:
    wanted = tuple(_as_list(statuses))
    unknown = Truth(None, ("custody.status",))

    def test(facts: Facts) -> Truth:
        status = (facts.get("custody") or {}).get("status")
        if status is None:
            return unknown
        return TRUE if status in wanted else FALSE

    return test


@condition("agreement", "the agency has the named agreement with the federal immigration agency in force")
def _agreement(name: Any, _: OffenseLists, __: str) -> Test:
    none = field_default("agency_agreements")

    def test(facts: Facts) -> Truth:
        return TRUE if name in facts.get("agency_agreements", none) else FALSE

    return test


# --- offenses ---------------------------------------------------------------------------------

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
# One property of an offense, compiled: the offense and the decision date in, its answer out.
_Property = Callable[[dict[str, Any], date], Truth]
_Matcher = Callable[[dict[str, Any], date], Truth]


def _offense_spec(spec: Any, allowed: set[str], where: str) -> dict[str, Any]:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise InvalidInput(f"{where}: an offense condition takes a mapping of properties, got {spec!r}")
    unknown = set(spec) - allowed
    if unknown:
        raise InvalidInput(f"{where}: offense condition has unknown properties {sorted(unknown)}")
    return spec


def _property(key: str, wanted: Any, prefix: str, lists: OffenseLists, where: str) -> _Property:
    """One property an offense must have; a property the offense does not state is missing."""
    if key in ("within_years", "released_within_years"):
        field_name = "date" if key == "within_years" else "released_on"
        unknown = Truth(None, (prefix + field_name,))
        try:
            years = int(wanted)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: {key} must be a whole number of years, got {wanted!r}") from None

        def within(offense: dict[str, Any], on: date) -> Truth:
            when = offense.get(field_name)
            if when is None:
                return unknown
            return FALSE if date.fromisoformat(when) < _years_before(on, years) else TRUE

        return within
    if key == "in_list":
        offense_list = lists.get(wanted) if isinstance(wanted, str) else None
        if offense_list is None:
            raise InvalidInput(f"{where}: unknown offense list '{wanted}'")
        classify = offense_list.classify
        return lambda offense, _: classify(offense, prefix)
    if key == "degree_in":
        degrees = tuple(_as_list(wanted))
        unknown = Truth(None, (prefix + "degree",))

        def degree_in(offense: dict[str, Any], _: date) -> Truth:
            degree = offense.get("degree")
            if degree is None:
                return unknown
            return TRUE if degree in degrees else FALSE

        return degree_in
    unknown = Truth(None, (prefix + key,))

    def equals(offense: dict[str, Any], _: date) -> Truth:
        have = offense.get(key)
        if have is None:
            return unknown
        return TRUE if have == wanted else FALSE

    return equals


def _matcher(spec: dict[str, Any], prefix: str, lists: OffenseLists, where: str) -> _Matcher:
    """An offense matching every property of ``spec``: False at the first property it lacks,
    else unknown while a property is not stated, and the list classification's basis when true."""
    properties = [_property(key, wanted, prefix, lists, where) for key, wanted in spec.items()]

    def matches(offense: dict[str, Any], on: date) -> Truth:
        missing: list[str] = []
        basis: tuple[str, ...] = ()
        for prop in properties:
            result = prop(offense, on)
            if result.value is False:
                return result
            missing.extend(result.missing)
            if result.basis:
                basis = result.basis
        return Truth(None, tuple(missing)) if missing else Truth(True, basis=basis)

    return matches


def _any_offense(field_name: str) -> Compiler:
    """Some offense of the person's ``field_name`` (convictions, pending charges) matches the spec."""
    prefix = f"person.{field_name}[]."

    def compile_offense(spec: Any, lists: OffenseLists, where: str) -> Test:
        matches = _matcher(_offense_spec(spec, _OFFENSE_KEYS, where), prefix, lists, where)

        def test(facts: Facts) -> Truth:
            missing: list[str] = []
            basis: list[str] = []
            on = facts["on"]
            for offense in facts["person"][field_name]:
                result = matches(offense, on)
                if result.value is True:
                    return Truth(True, basis=result.basis)
                missing.extend(result.missing)
                basis.extend(result.basis)
            if missing:
                return Truth(None, tuple(dict.fromkeys(missing)))
            return Truth(False, basis=tuple(dict.fromkeys(basis)))

        return test

    return compile_offense


condition(
    "conviction",
    "the person has a conviction matching every given property (level, degree, violent, serious, "
    "within_years of the decision date)",
)(_any_offense("convictions"))
condition("pending_charge", "the person has a pending charge matching every given property")(
    _any_offense("pending_charges")
)


def _felony(compile_offense: Compiler) -> Compiler:
    return lambda _, lists, where: compile_offense({"level": "felony"}, lists, where)


condition("felony_conviction", "the person has been convicted of a felony in any court")(
    _felony(_any_offense("convictions"))
)
condition("pending_felony_charge", "a felony charge is pending against the person")(
    _felony(_any_offense("pending_charges"))
)


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


# Words of a code's name as statutes are commonly written, as the library's lists write them.
_CODE_WORDS = {
    "california": "cal",
    "calif": "cal",
    "pen": "penal",
    "pc": "penalcode",
    "vehicle": "veh",
    "vc": "vehcode",
    "section": "",
    "sec": "",
    "subd": "",  # "Veh. Code, § 20001, subd. (c)", as California's courts write it
    "subdivision": "",
}
_CODE_NAME = re.compile(r"\d")  # a statute's code name is what comes before its first digit
_LETTERS = re.compile(r"[a-z]*")


def normalize_statute(text: str) -> str:
    """'Cal. Pen. Code § 459(a)' and 'California Penal Code section 459 (a)' alike: calpenalcode459a."""
    return "".join(_CODE_WORDS.get(word, word) for word in re.findall(r"[a-z0-9]+", text.lower()))


def _code_of(key: str) -> str:
    """The code a normalised statute names: the letters before its first digit (calpenalcode)."""
    return _LETTERS.match(key).group()  # type: ignore[union-attr]  # [a-z]* matches every string


def _statute_matches(offense_key: str, list_key: str) -> bool:
    """'calpenalcode187a' is under 'calpenalcode187', but 'calpenalcode1870' is not."""
    if not offense_key.startswith(list_key):
        return False
    rest = offense_key[len(list_key) :]
    return not rest or not (rest[0].isdigit() and list_key[-1:].isdigit())


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


# --- offenses classified by the request's flags ----------------------------------------------

_FLAG_NAMES = {"violent", "serious"}
_FLAGGED_KEYS = {"flags", "level", "degree_in", "within_years", "released_within_years"}


def _any_flagged(field_name: str) -> Compiler:
    """An offense the request flags (violent, serious) that matches every other given property.

    For laws whose offense list custody could not verify statute by statute (New York City's
    violent-or-serious crimes, Philadelphia's violent felonies of the first or second degree...):
    classifying by a partial statute list would call a listed offense unlisted, so these laws are
    read from the request's flags alone, and the decision says so.
    """
    prefix = f"person.{field_name}[]."

    def compile_flagged(spec: Any, lists: OffenseLists, where: str) -> Test:
        if not isinstance(spec, dict) or not spec.get("flags"):
            raise InvalidInput(
                f"{where}: a flagged-offense condition needs 'flags', e.g. {{flags: [violent, serious]}}"
            )
        flags = _as_list(spec["flags"])
        bad = set(spec) - _FLAGGED_KEYS or set(flags) - _FLAG_NAMES
        if bad:
            raise InvalidInput(f"{where}: flagged-offense condition has unknown properties or flags {sorted(bad)}")
        rest = {key: value for key, value in spec.items() if key != "flags"}
        matches = _matcher(rest, prefix, lists, where)
        how = "custody goes by those flags, as it holds no verified list of the statutes this law names"
        counts = Truth(True, basis=(f"an offense is flagged {' or '.join(flags)} in the request ({how})",))
        none_counts = Truth(False, basis=(f"no offense is flagged {' or '.join(flags)} in the request ({how})",))

        def test(facts: Facts) -> Truth:
            missing: list[str] = []
            on = facts["on"]
            for offense in facts["person"][field_name]:
                props = matches(offense, on)
                if props.value is False:
                    continue
                flagged = any(offense.get(f) is True for f in flags)
                unset = [prefix + f for f in flags if offense.get(f) is None]
                if not flagged and not unset:
                    continue
                if flagged and props.value is True:
                    return counts
                missing.extend(props.missing)
                if not flagged:
                    missing.extend(unset)
            if missing:
                return Truth(None, tuple(dict.fromkeys(missing)))
            return none_counts

        return test

    return compile_flagged


condition(
    "conviction_flagged",
    "the person has a conviction the request flags with one of the given flags (violent, serious) that "
    "matches every other given property (level, degree_in, within_years, released_within_years)",
)(_any_flagged("convictions"))
condition(
    "charge_flagged",
    "a pending charge against the person is flagged by the request with one of the given flags "
    "(violent, serious) and matches every other given property",
)(_any_flagged("pending_charges"))


# --- combinators -----------------------------------------------------------------------------

Condition = str | dict[str, Any] | list[Any]


def compile_condition(cond: Condition | None, lists: OffenseLists, where: str) -> Test:
    """The condition of a rule file as a Test; refuses, naming ``where``, a condition custody does
    not know or whose arguments it cannot read."""
    if cond is None:
        return _always
    if isinstance(cond, str):
        return _named(cond, None, lists, where)
    if isinstance(cond, list):
        return _all([compile_condition(item, lists, where) for item in cond])
    if not isinstance(cond, dict) or len(cond) != 1:
        raise InvalidInput(f"{where}: a condition is a name or a one-key mapping, got {cond!r}")
    ((name, arg),) = cond.items()
    if name in ("all", "any"):
        if not isinstance(arg, list):
            raise InvalidInput(f"{where}: '{name}' takes a list of conditions")
        tests = [compile_condition(item, lists, where) for item in arg]
        return _all(tests) if name == "all" else _any(tests)
    if name == "not":
        return _not(compile_condition(arg, lists, where))
    return _named(name, arg, lists, where)


def _named(name: Any, arg: Any, lists: OffenseLists, where: str) -> Test:
    entry = _REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise InvalidInput(f"{where}: unknown condition '{name}' (known: {', '.join(_REGISTRY)})")
    return entry[0](arg, lists, where)


def _always(_: Facts) -> Truth:
    return TRUE


def _all(tests: list[Test]) -> Test:
    return _joined(tests, decisive=False)


def _any(tests: list[Test]) -> Test:
    return _joined(tests, decisive=True)


def _joined(tests: list[Test], decisive: bool) -> Test:
    """``all`` (a false part decides) or ``any`` (a true part decides): three-valued, so without a
    deciding part an unknown part makes the whole unknown, naming every missing fact."""

    def test(facts: Facts) -> Truth:
        missing: list[str] = []
        basis: list[str] = []
        for part in tests:
            result = part(facts)
            if result.value is decisive:
                return result
            missing.extend(result.missing)
            basis.extend(result.basis)
        return Truth(None, tuple(dict.fromkeys(missing))) if missing else Truth(not decisive, basis=tuple(basis))

    return test


def _not(inner: Test) -> Test:
    def test(facts: Facts) -> Truth:
        result = inner(facts)
        return result if result.value is None else Truth(not result.value, basis=result.basis)

    return test
