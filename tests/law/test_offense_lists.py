"""Offense lists: classified by statute when given, else by the request's flags, and the decision
says which was used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custody.domain.errors import InvalidInput
from custody.law.engine import decide
from custody.law.loader import load_library
from tests.law.scratch_library import write_library

LIST_LAW = """
instrument:
  id: test-list-law
  name: Test list law
  citation: Test Code 9
  url: https://example.org/9
  effective_from: 2015-01-01
offense_lists:
  - id: test-serious
    citation: Test Code 9(b)
    says: The serious offenses.
    statutes: ["Test Penal Code 187", "Test Penal Code 211"]
    fallback_flags: [violent, serious]
rules:
  - id: test-9-a
    citation: Test Code 9(a)
    says: No hold unless the person was convicted of a listed offense within 5 years.
    actions: [hold]
    effect: prohibited
    exceptions:
      - id: test-9-a-listed
        citation: Test Code 9(b)
        says: The person was convicted of a listed serious offense within 5 years.
        when: {conviction: {in_list: test-serious, within_years: 5}}
        effect: permitted
"""


@pytest.fixture
def library(tmp_path: Path) -> Any:
    return load_library(write_library(tmp_path, {"list.yaml": LIST_LAW}, state="ca", forms=True))


def _hold(library: Any, conviction: dict[str, Any]) -> dict[str, Any]:
    doc = {
        "agency": "ocd-division/country:us/state:ca/county:x",
        "on": "2018-06-01",
        "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
        "person": {"convictions": [conviction], "pending_charges": []},
    }
    result: dict[str, Any] = decide(doc, library).to_contract()["actions"]["hold"]
    return result


def test_a_listed_statute_counts_and_the_decision_says_it_was_classified_by_statute(library: Any) -> None:
    hold = _hold(
        library, {"offense": "robbery", "level": "felony", "statute": "Test Penal Code 211(a)", "date": "2016-01-01"}
    )
    assert hold["status"] == "permitted"
    assert "classified by statute" in hold["explanation"]


def test_a_statute_off_the_list_does_not_count_even_if_flagged_violent(library: Any) -> None:
    hold = _hold(
        library,
        {"offense": "x", "level": "felony", "statute": "Test Penal Code 2110", "violent": True, "date": "2016-01-01"},
    )
    assert hold["status"] == "prohibited"


def test_without_a_statute_the_flags_decide_and_the_decision_says_so(library: Any) -> None:
    hold = _hold(library, {"offense": "robbery", "level": "felony", "serious": True, "date": "2016-01-01"})
    assert hold["status"] == "permitted" and "went by the request's violent or serious flag" in hold["explanation"]


def test_without_statute_or_flags_the_hold_is_undetermined(library: Any) -> None:
    hold = _hold(library, {"offense": "robbery", "level": "felony", "date": "2016-01-01"})
    assert hold["status"] == "undetermined"
    assert "person.convictions[].violent" in hold["missing"]


def test_an_old_conviction_outside_the_window_does_not_count(library: Any) -> None:
    hold = _hold(
        library, {"offense": "robbery", "level": "felony", "statute": "Test Penal Code 211", "date": "2010-01-01"}
    )
    assert hold["status"] == "prohibited"


def test_a_rule_naming_an_unknown_list_is_refused(tmp_path: Path) -> None:
    write_library(tmp_path, {"law.yaml": LIST_LAW.replace("in_list: test-serious", "in_list: nowhere")})
    with pytest.raises(InvalidInput, match="unknown offense list 'nowhere'"):
        load_library(tmp_path)
