"""Runs the legal examples under tests/law/examples: one YAML case per example, each naming the
clause it checks. A case gives the DecisionRequest (merged onto the file's defaults) and what each
action's decision must be, or the refusal the request must meet."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from custody.domain.errors import InvalidInput
from custody.law.contract import validate
from custody.law.engine import decide

EXAMPLES = Path(__file__).parent / "examples"


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(override)


def _cases() -> list[Any]:
    cases = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            request = _merge(data["defaults"], case.get("request", {}))
            cases.append(pytest.param(case, request, id=f"{path.relative_to(EXAMPLES)}::{case['name'][:60]}"))
    return cases


@pytest.mark.parametrize(("case", "request_doc"), _cases())
def test_legal_example(case: dict[str, Any], request_doc: dict[str, Any]) -> None:
    assert case["name"] and case["checks"], "every example names itself and the clause it checks"
    request_doc = {**request_doc, "on": str(request_doc["on"])}
    if "refused" in case:
        with pytest.raises(InvalidInput, match=case["refused"]):
            decide(request_doc)
        return
    decision = decide(request_doc).to_contract()
    validate("decision", decision)
    for action, expected in case["expect"].items():
        got = decision["actions"][action]
        assert got["status"] == expected["status"], (case["name"], action, got)
        for key in ("max_hours", "hold_clock"):
            if key in expected:
                assert got.get(key) == expected[key], (case["name"], action, key, got)
        for citation in expected.get("cites", []):
            assert citation in got["citations"], (case["name"], action, citation, got["citations"])
        if expected.get("cites"):
            assert got["citations"][0] == expected["cites"][0], "the most specific citation comes first"
        for fact in expected.get("missing", []):
            assert fact in got.get("missing", []), (case["name"], action, got)
        if "explanation_contains" in expected:
            assert expected["explanation_contains"] in got["explanation"], got["explanation"]
        if "explanation_lacks" in expected:  # e.g. "could not verify", once a clause's text was read
            assert expected["explanation_lacks"] not in got["explanation"], got["explanation"]
        if got["status"] != "undetermined" or got["citations"]:
            assert got["citations"], "a decided action carries at least one citation"


CASE_KEYS = {"name", "checks", "request", "expect", "refused"}


def _parts(condition: Any) -> list[Any]:
    """A condition and every condition inside it (``all``, ``any``, ``not``)."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((key, inner),) = condition.items()
        if key in ("all", "any"):
            return [condition, *(p for c in inner for p in _parts(c))]
        if key == "not":
            return [condition, *_parts(inner)]
    if isinstance(condition, list):
        return [p for c in condition for p in _parts(c)]
    return [condition]


def test_every_example_says_only_what_the_runner_reads() -> None:
    """A misplaced key (a date beside the request instead of in it) would be ignored silently."""
    for path in EXAMPLES.rglob("*.yaml"):
        for case in yaml.safe_load(path.read_text())["cases"]:
            assert set(case) <= CASE_KEYS, (path.name, case["name"], set(case) - CASE_KEYS)


def test_every_rule_and_exception_decides_a_legal_example() -> None:
    """Each rule of the library, and each exception to it, is the one that fires in at least one
    legal example: a clause no example reaches is a clause no one has checked."""
    from custody.law.loader import default_library

    library = default_library()
    clauses = {
        clause.id: instrument.id
        for jurisdiction in library.jurisdictions.values()
        for instrument in jurisdiction.instruments
        for rule in instrument.rules
        for clause in (rule, *rule.exceptions)
    }
    # An exception on a question the sources answer differently (``unsettled``) never fires: it is
    # reached when a decision is left undetermined on its question.
    questions = {
        f"law:{' '.join(str(part['unsettled']).split())}": exception.id
        for jurisdiction in library.jurisdictions.values()
        for instrument in jurisdiction.instruments
        for rule in instrument.rules
        for exception in rule.exceptions
        for part in _parts(exception.when)
        if isinstance(part, dict) and "unsettled" in part
    }
    reached: set[str] = set()
    for param in _cases():
        case, request_doc = param.values
        if "refused" in case:
            continue
        decision = decide({**request_doc, "on": str(request_doc["on"])})
        for ruling in decision.to_contract()["actions"].values():
            reached.update(ruling["rules"])
            reached.update(questions[m] for m in ruling.get("missing", []) if m in questions)
        for steps in decision.trace()["actions"].values():
            reached.update(step["rule"] for step in steps if step["fired"] is True)  # preemptions too
    unreached = sorted(f"{clauses[c]}: {c}" for c in set(clauses) - reached)
    assert not unreached, f"rules or exceptions no legal example reaches: {unreached}"
