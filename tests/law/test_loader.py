"""The loader refuses law that is not cited, dated and well-formed."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody.domain.errors import InvalidInput
from custody.law.loader import LIBRARY, default_library, load_library
from tests.law.scratch_library import RULE, write_library


def _library(tmp_path: Path, rule_text: str) -> Path:
    return write_library(tmp_path / "library", {"test.yaml": rule_text})


def test_a_well_formed_instrument_loads(tmp_path: Path) -> None:
    library = load_library(_library(tmp_path, RULE))
    (jurisdiction,) = {id(j): j for j in library.jurisdictions.values()}.values()
    assert [r.id for r in jurisdiction.instruments[0].rules] == ["test-1-1-a"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    citation: Test Code 1-1(a)\n", ""), "missing citation"),
        (("    says: No hold on a detainer.\n", ""), "missing says"),
        (("  effective_from: 2015-01-01\n", ""), "missing effective_from"),
        (("    effect: prohibited\n", "    effect: prohibited\n    when_ever: x\n"), "unknown keys when_ever"),
        (("    effect: prohibited\n", "    effect: prohibited\n    applies_when: moon_phase\n"), "unknown condition"),
        (("  name: Test ordinance\n", "  name: Test ordinance\n  name: Again\n"), "duplicate key 'name'"),
        (("    actions: [hold]\n", "    actions: [fly]\n"), "'fly' is not a valid Action"),
        # "24 hours" and "48 hours excluding weekends" end days apart: a limit says how it counts.
        (("    effect: prohibited\n", "    effect: permitted\n    max_hours: 24\n"), "max_hours 24 needs hold_clock"),
        (("        effect: permitted\n", "        effect: permitted\n        max_hours: 12\n"), "needs hold_clock"),
    ],
)
def test_the_loader_refuses_uncited_or_malformed_law(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in RULE
    with pytest.raises(InvalidInput, match=message):
        load_library(_library(tmp_path, RULE.replace(old, new)))


def test_a_folder_must_be_named_by_its_division(tmp_path: Path) -> None:
    root = _library(tmp_path, RULE)
    (root / "ocd-division" / "country:us" / "jurisdiction.yaml").write_text(
        "division: ocd-division/country:us/state:il\nname: Wrong\n"
    )
    with pytest.raises(InvalidInput, match="does not match its folder"):
        load_library(root)


def test_every_shipped_rule_has_a_citation_and_summary() -> None:
    library = load_library(LIBRARY)
    rules = [
        r for j in {id(j): j for j in library.jurisdictions.values()}.values() for i in j.instruments for r in i.rules
    ]
    assert len(rules) >= 20
    for rule in rules:
        assert rule.citation.strip() and len(rule.says) > 20, rule.id
        for exc in rule.exceptions:
            assert exc.citation.strip() and exc.says.strip(), exc.id


def test_the_law_revision_changes_when_a_rule_file_changes(tmp_path: Path) -> None:
    first = load_library(_library(tmp_path / "a", RULE)).revision
    second = load_library(_library(tmp_path / "b", RULE.replace("No hold", "No holds"))).revision
    assert first != second and first == load_library(_library(tmp_path / "c", RULE)).revision


def test_a_division_has_the_name_people_call_it() -> None:
    """The library's name where it has the jurisdiction; else one made from the id and its state."""
    library = default_library()
    assert library.name_of("ocd-division/country:us/state:il/county:cook") == "Cook County, Illinois"
    assert library.name_of("ocd-division/country:us/state:il") == "Illinois"
    assert library.name_of("ocd-division/country:us") == "United States (federal law)"
    assert library.name_of("ocd-division/country:us/state:tx/county:el_paso") == "El Paso County, Texas"
    assert library.name_of("ocd-division/country:us/state:ga/place:st~marys") == "St Marys, GA"
    assert library.name_of("ocd-division/country:us/state:ga/county:sim-0004") == "Sim-0004 County, GA"
    assert library.name_of("not a division") == "not a division"
