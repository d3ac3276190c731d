"""FY2017 Byrne JAG conditions checked against each jurisdiction's law, with the rulings bearing on them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from custody.domain.divisions import parse_division
from custody.domain.errors import InvalidInput
from custody.law.grants import GRANTS, _checked, check
from custody.law.loader import default_library, read_yaml


def _by_id(report: dict[str, Any]) -> dict[str, Any]:
    return {c["id"]: c for c in report["conditions"]}


def test_cook_county_law_conflicts_with_the_notice_and_access_conditions() -> None:
    report = check(default_library(), parse_division("ocd-division/country:us/state:il/county:cook"), 2017)
    conditions = _by_id(report)
    assert report["on"] == "2017-07-25" and report["circuit"] == "7"
    assert report["circuit_citation"] == "28 U.S.C. 41"
    assert conditions["notice"]["conflict"] == "conflicts"
    assert conditions["notice"]["citations"][0] == "Cook County Code § 46-37(b)"
    assert conditions["access"]["conflict"] == "conflicts"
    assert conditions["compliance"]["conflict"] == "not determinable"


def test_miami_dade_law_does_not_conflict_after_the_2017_directive() -> None:
    conditions = _by_id(
        check(default_library(), parse_division("ocd-division/country:us/state:fl/county:miami-dade"), 2017)
    )
    assert conditions["notice"]["conflict"] == "no conflict" and conditions["notice"]["law_status"] == "required"
    assert conditions["access"]["conflict"] == "no conflict"


def test_rulings_are_marked_by_how_they_bear_on_the_jurisdiction_and_whether_they_came_later() -> None:
    chicago = parse_division("ocd-division/country:us/state:il/place:chicago")
    report = check(default_library(), chicago, 2017, date(2018, 6, 1))
    rulings = {r["case"]: r for r in _by_id(report)["notice"]["rulings"]}
    pi = rulings["City of Chicago v. Sessions, 264 F. Supp. 3d 933 (N.D. Ill. 2017)"]
    assert pi["bearing"] == "party" and pi["in_effect_on_date"] is True
    ny = rulings["State of New York v. Department of Justice, 951 F.3d 84 (2d Cir. 2020)"]
    assert ny["bearing"] == "another circuit (persuasive)" and ny["in_effect_on_date"] is False


def test_a_city_is_judged_by_its_jail_as_well_as_its_police() -> None:
    """New York City's Department of Correction may not tell ICE of release dates (§ 9-131); its police
    may: the city runs both, so the notice condition conflicts, and the report says which decided."""
    notice = _by_id(check(default_library(), parse_division("ocd-division/country:us/state:ny/place:new_york"), 2017))[
        "notice"
    ]
    assert notice["conflict"] == "conflicts" and notice["agency_kind"] == "jail"
    assert notice["citations"][0].startswith("N.Y.C. Admin. Code § 9-131")
    assert notice["why"].startswith("For the jail:") and "police: permitted" in notice["why"]


@pytest.mark.parametrize(
    ("division", "case", "bearing"),
    [
        # every plaintiff is a party, by any of its ids; a party state's counties are not
        ("state:nj", "State of New York v.", "party"),
        ("state:ny/county:kings", "State of New York v.", "party"),  # New York City, by a borough's county id
        ("state:ny/county:erie", "State of New York v.", "binding in this circuit"),
        # the Ninth Circuit's relief reaches every California entity
        (
            "state:ca/county:santa_clara",
            "City and County of San Francisco v. Barr",
            "the relief covers this jurisdiction",
        ),
        ("state:or", "City and County of San Francisco v. Barr", "binding in this circuit"),
    ],
)
def test_a_ruling_bears_as_party_relief_or_circuit_law(division: str, case: str, bearing: str) -> None:
    report = check(default_library(), parse_division(f"ocd-division/country:us/{division}"), 2017)
    (ruling,) = [r for r in _by_id(report)["notice"]["rulings"] if r["case"].startswith(case)]
    assert ruling["bearing"] == bearing


def test_an_unencoded_fiscal_year_is_refused_with_the_years_that_are() -> None:
    with pytest.raises(InvalidInput, match="encoded: 2017"):
        check(default_library(), parse_division("ocd-division/country:us/state:il"), 2016)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda p: p["conditions"][1].pop("citation"), r"conditions\[1\]: missing citation"),
        (lambda p: p.pop("circuits_citation"), "missing circuits_citation"),
        (lambda p: p["conditions"][0].update(checks="detain"), r"conditions\[0\]: checks 'detain' is not one of"),
        (lambda p: p["rulings"][0].update(circuit="5"), r"rulings\[0\]: circuit '5' is not in the circuits table"),
        (lambda p: p["rulings"][0].update(conditions=["notice", "sanctuary"]), r"\['sanctuary'\] are not conditions"),
        (lambda p: p["rulings"][2].update(holdings="x"), r"rulings\[2\]: unknown keys holdings"),
    ],
)
def test_a_grant_file_without_a_citation_or_with_an_unknown_place_is_refused_by_name(change: Any, refusal: str) -> None:
    """Grant conditions load as the law library does: nothing without its citation, nothing unknown."""
    program = read_yaml(GRANTS / "byrne-jag-fy2017.yaml")
    _checked(program, "fy2017")  # the shipped file passes
    change(program)
    with pytest.raises(InvalidInput, match=refusal):
        _checked(program, "fy2017")
