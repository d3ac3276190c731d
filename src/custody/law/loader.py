"""Loads the law library: one folder per jurisdiction, named by its OCD division path.

The loader is strict, as OpenFisca's is: an unknown key, a duplicate key, a rule without a
citation or summary, an unknown condition or an instrument without dates is refused with the file
and the rule named. Law that is not cited does not ship.

It reads every file first (the offense lists a rule names may sit in another instrument's file),
then builds the instruments and compiles each rule's conditions, so deciding a request never
re-reads a rule file's structure.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml

from custody.domain.divisions import Division, Level, parse_division
from custody.domain.errors import InvalidInput
from custody.law.conditions import OffenseList, OffenseLists, compile_condition
from custody.law.contract import schema
from custody.law.model import (
    Action,
    Effect,
    Exception_,
    Form,
    HoldClock,
    Instrument,
    Jurisdiction,
    NotEncoded,
    Rule,
)

E = TypeVar("E", bound=Enum)
LIBRARY = Path(__file__).parent / "library"
FORMS_FILE = "forms.yaml"
JURISDICTION_FILE = "jurisdiction.yaml"


class _StrictLoader(yaml.SafeLoader):
    pass


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if not isinstance(key, Hashable):
            raise InvalidInput(f"a key at line {key_node.start_mark.line + 1} is a list or mapping, not a name")
        if key in seen:
            raise InvalidInput(f"duplicate key '{key}' at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_bytes().decode("utf-8"), Loader=_StrictLoader)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML ({exc})") from exc
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.detail}") from exc
    except ValueError as exc:  # PyYAML's own date constructor: 2017-02-30
        raise InvalidInput(f"{path}: {exc}") from None


@dataclass(frozen=True, eq=False)
class Library:
    """The law library as loaded: one value per revision, compared by identity (the engine keeps
    what it derives from a library, such as the instruments binding each agency, beside it)."""

    jurisdictions: dict[Division, Jurisdiction]
    forms: dict[str, Form]
    revision: str
    offense_lists: dict[str, OffenseList]

    def jurisdiction(self, division: Division) -> Jurisdiction | None:
        return self.jurisdictions.get(division)

    @cached_property
    def first_law(self) -> Instrument | None:
        """The federal instrument that first answers a detainer on its own (a hold rule that applies
        to every request): before it a decision would only say, misleadingly, that no law is encoded.
        A federal instrument that speaks only under conditions, such as 287(g) agreements (1996),
        does not start the library (found by a review: from 30 Sep 1996 to 31 Mar 1997, before 8 CFR
        287.7, every action came out undetermined)."""
        federal = self.jurisdictions.get(Division())
        instruments = federal.instruments if federal else ()
        answering = [
            i for i in instruments if any(Action.hold in r.actions and r.applies_when is None for r in i.rules)
        ]
        return min(answering or instruments, key=lambda i: i.effective_from, default=None)

    def nearest(self, division_id: str) -> str | None:
        """For a county or city the library has no law of, one of the same state and level whose name
        is spelt almost the same ("county:cok" for Cook): a typo would otherwise be decided, silently,
        on federal and state law alone, which for Cook County gives the opposite answer."""
        division = parse_division(division_id)
        if division.level not in (Level.county, Level.place) or division in self.jurisdictions:
            return None
        level = division.level.value
        slug = getattr(division, level)
        known = {
            getattr(d, level): d.id
            for d in self.jurisdictions
            if d.state == division.state and d.level is division.level
        }
        bare = {_bare(name): name for name in known}
        if _bare(slug) in bare:  # "county:cook_county", "place:city_of_chicago"
            return known[bare[_bare(slug)]]
        close = difflib.get_close_matches(slug, list(known), n=1, cutoff=0.75)
        return known[close[0]] if close else None

    def name_of(self, division_id: str) -> str:
        """What people call a division: the library's name for it, else one made from the id
        ("county:el_paso" in Texas: "El Paso County, Texas"); the text itself when it is not a
        division. Pages show this, with the id beside it for whoever needs the id."""
        try:
            division = parse_division(division_id)
        except InvalidInput:
            return division_id
        known = self.jurisdictions.get(division)
        if known is not None:
            return known.name
        if division.level is Level.federal:
            return "United States"
        state = self.jurisdictions.get(Division(division.state))
        state_name = state.name if state else str(division.state).upper()
        if division.level is Level.state:
            return state_name
        words = str(getattr(division, division.level.value)).replace("_", " ").replace("~", " ").title()
        return f"{words} County, {state_name}" if division.level is Level.county else f"{words}, {state_name}"


_AFFIXES = ("county_of_", "city_of_", "town_of_", "village_of_", "_county", "_city", "_parish")


def _bare(slug: str) -> str:
    """A county's or place's name without the words people add to it ("cook_county" is "cook")."""
    for affix in _AFFIXES:
        slug = slug.removeprefix(affix) if affix.endswith("_") else slug.removesuffix(affix)
    return slug


def take(data: dict[str, Any], where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    """``data`` if it holds every required key, filled in, and no key beyond the optional ones: a
    clause without its citation, or a misspelt key, is refused at load with the file and place named."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a mapping")
    missing = {k for k in required if data.get(k) in (None, "")}
    if missing:
        raise InvalidInput(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = set(data) - required - optional
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return data


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    raise InvalidInput(f"{where}: '{value}' is not a date (write YYYY-MM-DD)")


def _enum(cls: type[E], value: Any, where: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(f"{where}: '{value}' is not one of {', '.join(str(m.value) for m in cls)}") from None


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: {key} must be text")
    return " ".join(value.split())


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: expected a list")
    return value


def _actions(value: Any, where: str) -> frozenset[Action]:
    items = value if isinstance(value, list) else [value]
    try:
        return frozenset(Action(a) for a in items)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from exc


def _warrant_kinds(value: Any, where: str) -> frozenset[str]:
    kinds = frozenset(value if isinstance(value, list) else [value])
    known = schema("decision-request")["properties"]["request"]["properties"]["warrant"]["enum"]
    unknown = sorted(str(k) for k in kinds - set(known))
    if unknown:
        raise InvalidInput(f"{where}: warrant_in {', '.join(unknown)}: a warrant kind is one of {', '.join(known)}")
    return kinds


_RULE_REQUIRED = {"id", "citation", "says", "actions", "effect"}
_RULE_OPTIONAL = {"applies_when", "max_hours", "hold_clock", "exceptions", "verified", "verification"}
_EXC_REQUIRED = {"id", "citation", "says", "when", "effect"}
_EXC_OPTIONAL = {"max_hours", "hold_clock", "verified", "verification"}


def _rule(data: dict[str, Any], where: str, inherited_verified: bool, lists: OffenseLists) -> Rule:
    take(data, where, _RULE_REQUIRED, _RULE_OPTIONAL)
    where = f"{where} rule {data['id']}"
    applies = compile_condition(data.get("applies_when"), lists, where)
    exceptions = []
    for index, exc in enumerate(_list(data.get("exceptions"), f"{where} exceptions")):
        exc_where = f"{where} exception {index + 1}"
        take(exc, exc_where, _EXC_REQUIRED, _EXC_OPTIONAL)
        exc_where = f"{where} exception {exc['id']}"
        exceptions.append(
            Exception_(
                id=exc["id"],
                citation=exc["citation"],
                says=_text(exc, "says", exc_where),
                when=exc["when"],
                test=compile_condition(exc["when"], lists, exc_where),
                effect=_enum(Effect, exc["effect"], exc_where),
                **_hold_limit(exc, exc_where),
                verified=bool(exc.get("verified", inherited_verified)),
            )
        )
    verified = bool(data.get("verified", inherited_verified))
    return Rule(
        id=data["id"],
        citation=data["citation"],
        says=_text(data, "says", where),
        actions=_actions(data["actions"], where),
        effect=_enum(Effect, data["effect"], where),
        applies=applies,
        applies_when=data.get("applies_when"),
        **_hold_limit(data, where),
        exceptions=tuple(exceptions),
        verified=verified,
    )


def _hold_limit(data: dict[str, Any], where: str) -> dict[str, Any]:
    """A rule or exception that limits a hold's hours says how they are counted: "24 hours" and
    "48 hours excluding Saturdays, Sundays and holidays" end days apart, and a limit without its
    clock would take the request form's, which may be the looser one."""
    hours, clock = data.get("max_hours"), data.get("hold_clock")
    if hours and clock is None:
        raise InvalidInput(
            f"{where}: max_hours {hours} needs hold_clock (one of {', '.join(c.value for c in HoldClock)}), "
            "as the clause counts its hours"
        )
    return {"max_hours": hours, "hold_clock": _enum(HoldClock, clock, where) if clock else None}


_INSTRUMENT_REQUIRED = {"id", "name", "citation", "url", "effective_from"}
_INSTRUMENT_OPTIONAL = {
    "enacted",
    "effective_to",
    "repealed_by",
    "verified",
    "binds",
    "notes",
    "verification",
}


def _offense_lists(data: dict[str, Any], path: Path) -> list[OffenseList]:
    lists = []
    for index, entry in enumerate(_list(data.get("offense_lists"), f"{path} offense_lists")):
        where = f"{path} offense list {index + 1}"
        take(entry, where, {"id", "citation", "says", "statutes"}, {"fallback_flags", "verified", "verification"})
        lists.append(
            OffenseList(
                id=entry["id"],
                citation=entry["citation"],
                says=_text(entry, "says", where),
                statutes=tuple(str(s) for s in _list(entry["statutes"], f"{where} statutes")),
                fallback_flags=tuple(entry.get("fallback_flags") or ()),
                verified=bool(entry.get("verified", True)),
            )
        )
    return lists


def _instrument(path: Path, data: dict[str, Any], division: Division, lists: OffenseLists) -> Instrument:
    meta = take(data["instrument"], f"{path} instrument", _INSTRUMENT_REQUIRED, _INSTRUMENT_OPTIONAL)
    where = f"{path}"
    verified = bool(meta.get("verified", True))
    rules = tuple(_rule(r, where, verified, lists) for r in _list(data["rules"], f"{where} rules"))
    if not rules:
        raise InvalidInput(f"{path}: an instrument needs at least one rule")
    effective_from = _date(meta["effective_from"], where)
    assert effective_from is not None
    binds = meta.get("binds")
    return Instrument(
        id=meta["id"],
        name=meta["name"],
        citation=meta["citation"],
        url=meta["url"],
        division=division,
        effective_from=effective_from,
        enacted=_date(meta.get("enacted"), where),
        effective_to=_date(meta.get("effective_to"), where),
        repealed_by=meta.get("repealed_by"),
        verified=verified,
        binds=frozenset(binds) if binds else None,
        notes=" ".join(str(meta.get("notes", "")).split()),
        rules=rules,
    )


def _not_encoded(entries: Any, division: Division) -> tuple[NotEncoded, ...]:
    gaps = []
    for index, entry in enumerate(_list(entries, f"{division.id} not_encoded")):
        where = f"{division.id} not_encoded {index + 1}"
        take(entry, where, {"citation", "actions", "effective_from", "why"}, {"effective_to", "binds", "warrant_in"})
        effective_from = _date(entry["effective_from"], where)
        assert effective_from is not None
        gaps.append(
            NotEncoded(
                citation=entry["citation"],
                actions=_actions(entry["actions"], where),
                effective_from=effective_from,
                why=_text(entry, "why", where),
                effective_to=_date(entry.get("effective_to"), where),
                binds=frozenset(entry["binds"]) if entry.get("binds") else None,
                warrants=_warrant_kinds(entry["warrant_in"], where) if "warrant_in" in entry else None,
            )
        )
    return tuple(gaps)


def _forms(path: Path) -> dict[str, Form]:
    data = read_yaml(path)
    take(data, str(path), {"forms"}, set())
    forms = {}
    for index, entry in enumerate(_list(data["forms"], f"{path} forms")):
        where = f"{path} form {index + 1}"
        take(
            entry,
            where,
            {"name", "title", "citation", "requires_administrative_warrant"},
            {"in_use_from", "in_use_to", "hold_hours", "hold_clock", "verified", "verification"},
        )
        forms[entry["name"]] = Form(
            name=entry["name"],
            title=entry["title"],
            citation=entry["citation"],
            in_use_from=_date(entry.get("in_use_from"), where),
            in_use_to=_date(entry.get("in_use_to"), where),
            hold_hours=entry.get("hold_hours"),
            hold_clock=_enum(HoldClock, entry["hold_clock"], where) if entry.get("hold_clock") else None,
            requires_administrative_warrant=bool(entry["requires_administrative_warrant"]),
            verified=bool(entry.get("verified", True)),
        )
    return forms


@dataclass(frozen=True)
class _Folder:
    """A jurisdiction's folder as read: its metadata and its instruments' files, not yet built."""

    division: Division
    meta: dict[str, Any]
    files: list[tuple[Path, dict[str, Any]]]


def load_library(root: Path = LIBRARY) -> Library:
    digest = hashlib.sha256()
    forms: dict[str, Form] = {}
    offense_lists: dict[str, OffenseList] = {}
    folders: list[_Folder] = []
    for folder in [*sorted(p for p in root.rglob("*") if p.is_dir()), root]:
        meta_path = folder / JURISDICTION_FILE
        if not meta_path.exists():
            continue
        division = parse_division(folder.relative_to(root).as_posix())
        meta = take(read_yaml(meta_path), str(meta_path), {"division", "name"}, {"aliases", "notes", "not_encoded"})
        if parse_division(meta["division"]) != division:
            raise InvalidInput(f"{meta_path}: division {meta['division']} does not match its folder")
        files = []
        for path in sorted(folder.glob("*.yaml")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
            if path.name == JURISDICTION_FILE:
                continue
            if path.name == FORMS_FILE:
                forms.update(_forms(path))
                continue
            data = take(read_yaml(path), str(path), {"instrument", "rules"}, {"offense_lists"})
            for offense_list in _offense_lists(data, path):
                if offense_list.id in offense_lists:
                    raise InvalidInput(f"{path}: offense list id '{offense_list.id}' is used twice")
                offense_lists[offense_list.id] = offense_list
            files.append((path, data))
        folders.append(_Folder(division, meta, files))
    jurisdictions: dict[Division, Jurisdiction] = {}
    seen_ids: dict[str, Path] = {}
    for folder_read in folders:
        instruments = []
        for path, data in folder_read.files:
            instrument = _instrument(path, data, folder_read.division, offense_lists)
            for rule_id in [instrument.id, *(r.id for r in instrument.rules)]:
                if rule_id in seen_ids:
                    raise InvalidInput(f"{path}: id '{rule_id}' is also used in {seen_ids[rule_id]}")
                seen_ids[rule_id] = path
            instruments.append(instrument)
        jurisdiction = Jurisdiction(
            division=folder_read.division,
            name=folder_read.meta["name"],
            aliases=tuple(parse_division(a) for a in folder_read.meta.get("aliases") or []),
            instruments=tuple(instruments),
            not_encoded=_not_encoded(folder_read.meta.get("not_encoded"), folder_read.division),
        )
        jurisdictions[jurisdiction.division] = jurisdiction
        for alias in jurisdiction.aliases:
            jurisdictions[alias] = jurisdiction
    return Library(
        jurisdictions=jurisdictions,
        forms=forms,
        revision="sha256:" + digest.hexdigest()[:16],
        offense_lists=offense_lists,
    )


@cache
def default_library() -> Library:
    return load_library()
