"""The DecisionRequest contract: validated with format checking, defaults read as facts.

A field with a default in the schema is an asserted fact when absent (no gang-database entry, no
reimbursement agreement); a field without a default that the law turns on stays missing, so the
engine can say the action is undetermined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from custody.domain.divisions import Level, parse_division
from custody.domain.errors import InvalidInput

CONTRACTS = Path(__file__).parent / "contracts"
_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DEFAULT_AGENCY_KIND = {Level.county: "jail", Level.place: "police", Level.state: "prison"}


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONTRACTS / f"{name}.schema.json").read_text())
    return loaded


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)


def validate(name: str, document: Any) -> None:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise InvalidInput(f"{where}: {_in_words(first)}")


def _in_words(error: jsonschema.ValidationError) -> str:
    """The schema's complaint as a person can act on it: a date to write as YYYY-MM-DD, a field's
    own description instead of its regular expression, and a long value cut short."""
    shown = repr(error.instance)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    keyword = str(error.validator)  # the schema keyword that failed ('format', 'pattern', ...)
    if keyword == "format" and error.validator_value == "date":
        return f"{shown} is not a 'date' that exists; write YYYY-MM-DD"
    if keyword == "pattern":
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        first_sentence = described.split(". ")[0].rstrip(".") if described else ""
        return f"{shown} is not written as the contract asks" + (f": {first_sentence}" if first_sentence else "")
    return error.message if len(error.message) <= 300 else error.message[:297] + "..."


def _is_date(text: object) -> bool:
    """A calendar date written YYYY-MM-DD, as JSON Schema's "date" format means it (Python 3.11's
    ``date.fromisoformat`` also takes week dates such as 2017-W33-3: found by a review)."""
    if not isinstance(text, str) or _CALENDAR_DATE.fullmatch(text) is None:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def field_default(*path: str) -> Any:
    """The schema's default for a DecisionRequest field (``field_default("person", "juvenile")``):
    the fact asserted when the field is absent; None for a field without one."""
    node = schema("decision-request")
    for key in path:
        node = node["properties"][key]
    return node.get("default")


@dataclass(frozen=True)
class _FastValidator:
    check: Callable[[Any], Any]  # the schema compiled by fastjsonschema
    unique_lists: tuple[tuple[str, ...], ...]  # lists of names whose uniqueness is checked beside it


@cache
def _fast_validator() -> _FastValidator:
    """The same schema compiled to Python by fastjsonschema, for the hot path: about 20x faster than
    jsonschema. It leaves the document untouched (no defaults filled in, so no copy is needed):
    the conditions read an absent field as its default (``field_default``). jsonschema stays the
    authority for error messages."""
    compiled = _inline_refs(schema("decision-request"), schema("decision-request")["$defs"])
    compiled.pop("$id")  # a relative $id would send the resolver looking for a remote document
    compiled["$schema"] = "http://json-schema.org/draft-07/schema#"
    unique_lists = _take_unique_lists(compiled)
    return _FastValidator(
        fastjsonschema.compile(compiled, formats={"date": _is_date}, use_default=False), tuple(unique_lists)
    )


def _take_unique_lists(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Take the ``uniqueItems`` check of each list of names (an array of enum values, reached through
    object properties) out of the schema to compile, and say where each was. fastjsonschema's code
    for it defines a recursive function on every call, garbage that only the cycle collector frees;
    a set of the names is the same test at a fraction of the cost."""
    found = []
    for key, sub in node.get("properties", {}).items():
        where = (*path, key)
        if sub.get("type") == "array" and sub.get("uniqueItems") and "enum" in sub.get("items", {}):
            del sub["uniqueItems"]
            found.append(where)
        found += _take_unique_lists(sub, where)
    return found


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """A copy of the schema with each ``#/$defs/...`` reference replaced by its definition: the
    code fastjsonschema generates for a reference costs a third of the validation time."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(value, defs) for value in node]
    return node


def facts_from_request(document: Any) -> dict[str, Any]:
    """Validate a DecisionRequest and return the facts the conditions read: the document's own
    fields (shared, never changed), ``on`` as a date and the agency's kind.

    Other dates stay ISO strings; a field with a schema default may be absent (see ``field_default``).
    """
    fast = _fast_validator()
    try:
        fast.check(document)
        for path in fast.unique_lists:
            names = _field(document, path)
            if names is not None and len(set(names)) != len(names):
                raise fastjsonschema.JsonSchemaValueException(f"{'.'.join(path)} must contain unique items")
    except fastjsonschema.JsonSchemaException as exc:
        validate("decision-request", document)  # raises with jsonschema's message
        if isinstance(document.get("agency"), str):
            parse_division(document["agency"])  # jsonschema lets "…cook\n" through; this says what is wrong
        raise InvalidInput(str(exc)) from None
    except RecursionError:
        raise InvalidInput("the request is nested too deeply to be a DecisionRequest") from None
    _refuse_impossible_dates(document)
    facts: dict[str, Any] = {**document, "on": date.fromisoformat(document["on"])}
    facts.setdefault("agency_kind", _default_agency_kind(document["agency"]))
    return facts


def _refuse_impossible_dates(document: dict[str, Any]) -> None:
    """A conviction, charge or release dated after the decision, or a release before its conviction,
    cannot be: the law would be applied to facts no one could have had (ISO dates compare as text)."""
    on = document["on"]
    person = document.get("person") or {}
    for group in ("convictions", "pending_charges"):
        for index, offense in enumerate(person.get(group) or ()):
            where = f"person.{group}[{index}]"
            when, released = offense.get("date"), offense.get("released_on")
            if when is not None and when > on:
                raise InvalidInput(f"{where}.date {when} is after the decision date {on}; give the date it happened")
            if released is not None and released > on:
                raise InvalidInput(f"{where}.released_on {released} is after the decision date {on}")
            if released is not None and when is not None and released < when:
                raise InvalidInput(f"{where}.released_on {released} is before its date {when}; a release follows it")
    basis = (document.get("custody") or {}).get("basis") or {}
    if basis.get("date") is not None and basis["date"] > on:
        raise InvalidInput(
            f"custody.basis.date {basis['date']} is after the decision date {on}; give the date it happened"
        )


def _field(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The field at ``path`` of a document the schema has accepted, or None where it is absent."""
    node: Any = document
    for key in path:
        node = node.get(key)
        if node is None:
            return None
    return node


@lru_cache(maxsize=4096)
def _default_agency_kind(agency: str) -> str:
    """The kind of agency the division runs unless the request says otherwise; refuses a division
    that names no government below the federal one."""
    division = parse_division(agency)
    if division.level is Level.federal:
        raise InvalidInput(
            "agency: the division names no state, county or place; name the government that runs the agency"
        )
    return DEFAULT_AGENCY_KIND[division.level]
