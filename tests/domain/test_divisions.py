"""Divisions: which governments' law binds an agency."""

from __future__ import annotations

import pytest

from custody.domain.divisions import Division, Level, parse_division
from custody.domain.errors import InvalidInput


def test_a_county_jail_is_bound_by_federal_state_and_county_law() -> None:
    cook = parse_division("ocd-division/country:us/state:il/county:cook")
    assert [d.id for d in cook.layers()] == [
        "ocd-division/country:us",
        "ocd-division/country:us/state:il",
        "ocd-division/country:us/state:il/county:cook",
    ]


def test_a_city_agency_is_not_bound_by_its_county() -> None:
    chicago = parse_division("ocd-division/country:us/state:il/place:chicago")
    assert chicago.level is Level.place
    assert Division("il", county="cook") not in chicago.layers()


@pytest.mark.parametrize(
    "text",
    [
        "ocd-division/country:ca/province:on",
        "ocd-division/country:us/state:zz",
        "ocd-division/country:us/state:il/county:cook/place:chicago",
        "ocd-division/country:us/state:il/ward:3",
        "cook county",
    ],
)
def test_divisions_that_are_not_a_us_state_county_or_place_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_division(text)
