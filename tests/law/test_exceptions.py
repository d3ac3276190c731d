"""Exceptions are tried in order; an earlier exception whose facts are missing only makes the
answer undetermined when it would change it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custody.law.engine import decide
from custody.law.loader import Library, load_library
from tests.law.scratch_library import write_library

LAW = """
instrument:
  id: test-order
  name: Test ordering law
  citation: Test Code 5
  url: https://example.org/5
  effective_from: 2015-01-01
rules:
  - id: test-5-a
    citation: Test Code 5(a)
    says: No hold, unless an exception applies.
    actions: [hold]
    effect: prohibited
    exceptions:
      - id: test-5-b
        citation: Test Code 5(b)
        says: A violent felony conviction lifts the bar.
        when: {conviction: {level: felony, violent: true}}
        effect: EARLIER
      - id: test-5-c
        citation: Test Code 5(c)
        says: An outstanding criminal warrant lifts the bar.
        when: outstanding_criminal_warrant
        effect: permitted
"""


def _library(tmp_path: Path, earlier: str) -> Library:
    return load_library(write_library(tmp_path, {"law.yaml": LAW.replace("EARLIER", earlier)}, state="ca", forms=True))


def _hold(library: Library) -> dict[str, Any]:
    doc = {
        "agency": "ocd-division/country:us/state:ca/county:x",
        "on": "2018-06-01",
        "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
        # The felony's violent flag is missing, so exception (b) is unknown; (c) plainly holds.
        "person": {
            "convictions": [{"offense": "x", "level": "felony"}],
            "pending_charges": [],
            "outstanding_criminal_warrant": True,
        },
    }
    result: dict[str, Any] = decide(doc, library).to_contract()["actions"]["hold"]
    return result


def test_a_later_exception_that_holds_decides_when_the_unknown_earlier_one_would_agree(tmp_path: Path) -> None:
    hold = _hold(_library(tmp_path, "permitted"))
    assert hold["status"] == "permitted"
    assert hold["citations"][0] == "Test Code 5(c)"


def test_an_unknown_earlier_exception_that_would_change_the_answer_leaves_it_undetermined(tmp_path: Path) -> None:
    hold = _hold(_library(tmp_path, "required"))
    assert hold["status"] == "undetermined"
    assert "person.convictions[].violent" in hold["missing"]
