"""`law show` and `law diff`: the law in force on a date, and what changed by which instrument."""

from __future__ import annotations

from datetime import date

import pytest

from custody.domain.divisions import parse_division
from custody.domain.errors import InvalidInput
from custody.law.browse import diff, in_force
from custody.law.loader import default_library

CHICAGO = parse_division("ocd-division/country:us/state:il/place:chicago")


def _ids(view: dict[str, object]) -> list[str]:
    return [i["id"] for i in view["instruments"]]  # type: ignore[index, union-attr]


def test_show_lists_the_layers_in_force_with_citations_on_the_date() -> None:
    view = in_force(default_library(), CHICAGO, date(2017, 8, 16))
    assert {"us-8-cfr-287-7", "us-il-chicago-welcoming-city-2012"} <= set(_ids(view))
    assert "us-il-trust-act-2017" not in _ids(view) and "us-il-cook-ord-11-O-73" not in _ids(view)
    assert "I-247A" in view["forms_in_use"] and "I-247D" not in view["forms_in_use"]
    later = in_force(default_library(), CHICAGO, date(2021, 1, 27))
    assert "us-il-chicago-welcoming-city-2021" in _ids(later) and "us-il-chicago-welcoming-city-2012" not in _ids(later)
    assert "us-il-trust-act-2017" in _ids(later)


def test_a_county_does_not_show_the_city_ordinance() -> None:
    view = in_force(default_library(), parse_division("ocd-division/country:us/state:il/county:cook"), date(2018, 1, 1))
    assert not any("chicago" in i for i in _ids(view))


def test_diff_names_each_instrument_that_took_effect_or_ended_in_date_order() -> None:
    changes = diff(default_library(), CHICAGO, date(2017, 1, 1), date(2022, 1, 1))["changes"]
    events = [(c["on"], c["change"], c["id"]) for c in changes]
    expected = [
        ("2017-08-28", "took effect", "us-il-trust-act-2017"),
        ("2021-01-27", "ended", "us-il-chicago-welcoming-city-2012"),
        ("2021-01-27", "took effect", "us-il-chicago-welcoming-city-2021"),
    ]
    assert [e for e in events if e in expected] == expected
    assert events == sorted(events, key=lambda e: e[0])
    assert diff(default_library(), CHICAGO, date(2013, 1, 1), date(2014, 1, 1))["changes"] == []


def test_diff_refuses_dates_in_the_wrong_order() -> None:
    with pytest.raises(InvalidInput, match="is before its start"):
        diff(default_library(), CHICAGO, date(2020, 1, 1), date(2019, 1, 1))


def test_an_instrument_shows_its_notes_where_it_has_them() -> None:
    """The library's note on how an instrument sits beside the others (here: a 287(g) agreement
    yields to a state's prohibition) is shown with it; an instrument without one shows none."""
    view = in_force(default_library(), CHICAGO, date(2017, 8, 16))
    notes = {i["id"]: i["notes"] for i in view["instruments"]}  # type: ignore[index, union-attr]
    assert "that prohibition prevails" in notes["us-8-usc-1357-g"]
    assert "  " not in notes["us-8-usc-1357-g"]  # folded to one line, as written in the library
    assert "switches off the whole section" in notes["us-il-chicago-welcoming-city-2012"]
    later = in_force(default_library(), CHICAGO, date(2021, 1, 27))
    assert {i["id"]: i["notes"] for i in later["instruments"]}["us-il-chicago-welcoming-city-2021"] is None  # type: ignore[index, union-attr]
