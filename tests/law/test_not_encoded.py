"""Law known to govern but not encoded: a decision it touches is undetermined and names it, for the
agencies it binds and the dates it was in force only; the encoded law's answer is said beside it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from custody.domain.divisions import parse_division
from custody.domain.errors import InvalidInput
from custody.law.browse import diff, in_force
from custody.law.loader import load_library
from tests.law.scratch_library import RULE, add_county, decided, write_library

COUNTY = "ocd-division/country:us/state:ny/county:x"
GAP = """not_encoded:
  - citation: County Local Law 1 of 2017
    actions: [hold]
    binds: [jail]
    effective_from: 2017-06-01
    effective_to: 2018-01-01
    why: its text was not seen
"""


def _library(root: Path, gap: str = GAP) -> Any:
    write_library(root, {"law.yaml": RULE.replace("effective_from: 2015-01-01", "effective_from: 2019-01-01")}, "ny")
    add_county(root, "ny", "x", {}, meta=gap)
    return load_library(root)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _library(tmp_path_factory.mktemp("library"))


def _actions(library: Any, on: str, kind: str = "jail") -> dict[str, Any]:
    return decided(library, COUNTY, on, agency_kind=kind)


def test_a_decision_the_unencoded_law_touches_is_undetermined_and_names_it(library: Any) -> None:
    hold = _actions(library, "2017-06-01")["hold"]
    assert hold["status"] == "undetermined"
    assert hold["citations"][0] == "County Local Law 1 of 2017"
    assert hold["missing"] == ["law:County Local Law 1 of 2017"]
    assert "its text was not seen" in hold["explanation"]
    assert "The encoded law alone gives permitted" in hold["explanation"]


@pytest.mark.parametrize(
    ("on", "kind", "action"),
    [
        ("2017-05-31", "jail", "hold"),  # before it
        ("2018-01-01", "jail", "hold"),  # after it
        ("2017-06-01", "police", "hold"),  # an agency it does not bind
        ("2017-06-01", "jail", "notify"),  # an action it does not govern
    ],
)
def test_outside_its_dates_agencies_and_actions_the_encoded_law_decides(
    library: Any, on: str, kind: str, action: str
) -> None:
    assert _actions(library, on, kind)[action]["status"] == "permitted"


def test_the_law_in_force_lists_it(library: Any) -> None:
    view = in_force(library, parse_division(COUNTY), date(2017, 7, 1))
    assert [g["citation"] for g in view["not_encoded"]] == ["County Local Law 1 of 2017"]
    assert in_force(library, parse_division(COUNTY), date(2018, 7, 1))["not_encoded"] == []


@pytest.mark.parametrize(
    ("gap", "refusal"),
    [
        (GAP.replace("    why: its text was not seen\n", ""), "why"),
        (GAP.replace("effective_from: 2017-06-01", "effective_from: June 2017"), "is not a date"),
        (GAP.replace("actions: [hold]", "actions: [detain]"), "detain"),
        (GAP + "    note: extra\n", "note"),
    ],
)
def test_a_malformed_entry_is_refused_when_the_library_loads(tmp_path: Path, gap: str, refusal: str) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        _library(tmp_path, gap)


def test_the_diff_says_when_it_began_and_ended(library: Any) -> None:
    changes = diff(library, parse_division(COUNTY), date(2017, 1, 1), date(2018, 6, 1))["not_encoded_changes"]
    assert [(c["change"], c["on"]) for c in changes] == [
        ("in force, not encoded", "2017-06-01"),
        ("ended", "2018-01-01"),
    ]
    assert diff(library, parse_division(COUNTY), date(2018, 6, 1), date(2019, 1, 1))["not_encoded_changes"] == []


def test_a_gap_may_touch_only_requests_backed_by_some_warrants(tmp_path: Path) -> None:
    """Oregon's open question (does an administrative warrant supply the probable cause
    Miranda-Olivares found missing?) touches I-247As with an I-200, not a request backed by a
    judge's warrant; a warrant kind the contract does not know is refused when the library loads."""
    library = _library(tmp_path / "a", GAP.replace("    binds: [jail]\n", "    warrant_in: [administrative]\n"))
    assert _actions(library, "2017-06-01")["hold"]["status"] == "undetermined"
    judicial = {"form": "I-247A", "actions": ["hold", "notify"], "warrant": "judicial_criminal"}
    assert decided(library, COUNTY, "2017-06-01", request=judicial)["hold"]["status"] == "permitted"
    with pytest.raises(InvalidInput, match="warrant_in I-200: a warrant kind is one of none, administrative"):
        _library(tmp_path / "b", GAP.replace("    binds: [jail]\n", "    warrant_in: [I-200]\n"))
