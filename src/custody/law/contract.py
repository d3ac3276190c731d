"""The DecisionRequest contract: validated with format checking, defaults filled in as facts.

A field with a default in the schema is an asserted fact when absent (no gang-database entry, no
reimbursement agreement); a field without a default that the law turns on stays missing, so the
engine can say the action is undetermined.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from custody.domain.divisions import Level, parse_division
from custody.domain.errors import InvalidInput

CONTRACTS = Path(__file__).parent / "contracts"
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
        raise InvalidInput(f"{where}: {first.message}")


def _fill_defaults(node: dict[str, Any], spec: dict[str, Any], root: dict[str, Any]) -> None:
    for key, sub in spec.get("properties", {}).items():
        if "$ref" in sub:
            sub = root["$defs"][sub["$ref"].rsplit("/", 1)[1]]
        if key not in node and "default" in sub:
            node[key] = copy.deepcopy(sub["default"])
        if isinstance(node.get(key), dict) and sub.get("type") == "object":
            _fill_defaults(node[key], sub, root)


def facts_from_request(document: Any) -> dict[str, Any]:
    """Validate a DecisionRequest and return the facts the conditions read.

    Dates stay ISO strings except ``on``, which the engine needs as a date.
    """
    validate("decision-request", document)
    facts: dict[str, Any] = copy.deepcopy(document)
    _fill_defaults(facts, schema("decision-request"), schema("decision-request"))
    division = parse_division(facts["agency"])
    if division.level.value == "federal":
        raise InvalidInput(
            "agency: the division names no state, county or place; name the government that runs the agency"
        )
    facts.setdefault("agency_kind", DEFAULT_AGENCY_KIND[division.level])
    facts["on"] = date.fromisoformat(document["on"])
    return facts
