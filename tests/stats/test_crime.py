"""Murders and violent crime by agency and year, recomputed from the shipped files with plain csv."""

from __future__ import annotations

from datetime import date

import pytest

from custody.domain.errors import InvalidInput, NotFound
from custody.stats.crime import Measure, agency_year, change, chicago_murders, measure, series
from custody.stats.datasets import DATA_DIR, FBI_2019, UCR
from custody.stats.warehouse import Warehouse
from tests.conftest import need_shared
from tests.stats.conftest import read_csv


def _ucr(ori: str, year: int) -> dict[str, str]:
    return next(r for r in read_csv(DATA_DIR / UCR.filename) if r["ORI"] == ori and r["year"] == str(year))


@pytest.mark.parametrize(("ori", "year"), [("ILCPD00", 2015), ("FL01300", 2015), ("FL01300", 1981), ("FL01306", 1980)])
def test_murders_per_100k_match_the_ucr_file(warehouse: Warehouse, ori: str, year: int) -> None:
    row = _ucr(ori, year)
    result = measure(warehouse, ori, year, Measure.MURDERS)
    assert result["murders"] == int(row["homs_sum"])
    assert result["population"] == int(row["total_pop"])
    assert result["per_100k"] == round(float(row["homs_per_100k"]), 2)
    assert result["agency"] == row["department_name"]
    assert f"line {read_csv(DATA_DIR / UCR.filename).index(row) + 2}" in result["source"]


def test_violent_crime_matches_the_ucr_file(warehouse: Warehouse) -> None:
    row = _ucr("ILCPD00", 2014)
    result = measure(warehouse, "ILCPD00", 2014, Measure.VIOLENT)
    assert (result["violent"], result["per_100k"]) == (
        int(row["violent_crime"]),
        round(float(row["violent_per_100k"]), 2),
    )


def test_2019_comes_from_fbi_table_8_for_cities(warehouse: Warehouse) -> None:
    row = next(r for r in read_csv(DATA_DIR / FBI_2019.filename) if (r["state"], r["city"]) == ("ILLINOIS", "Chicago"))
    result = measure(warehouse, "ILCPD00", 2019, Measure.MURDERS)
    assert (result["murders"], result["population"]) == (int(row["murder"]), int(row["population"]))
    assert result["per_100k"] == round(int(row["murder"]) / int(row["population"]) * 100_000, 2)


def test_a_county_department_in_2019_is_refused_because_table_8_lists_cities_only(warehouse: Warehouse) -> None:
    with pytest.raises(NotFound, match="cities only"):
        measure(warehouse, "FL01300", 2019, Measure.MURDERS)


def test_the_miami_dade_police_area_is_not_the_whole_county(warehouse: Warehouse) -> None:
    result = measure(warehouse, "FL01300", 2015, Measure.MURDERS)
    assert any("not the whole county" in c for c in result["caveats"])
    assert result["population"] == int(_ucr("FL01300", 2015)["total_pop"]) < 2_000_000


def test_months_reported_below_twelve_is_a_caveat(warehouse: Warehouse) -> None:
    short = next(r for r in read_csv(DATA_DIR / UCR.filename) if r["months_reported"] not in ("12", "NA", "0")
                 and r["homs_sum"] != "NA" and r["total_pop"] != "NA")  # fmt: skip
    row = agency_year(warehouse, short["ORI"], int(short["year"]))
    assert row.months_reported == int(short["months_reported"])
    assert any(f"{short['months_reported']} of 12 months" in c for c in row.caveats)


def test_year_over_year_change_is_computed_from_both_rows(warehouse: Warehouse) -> None:
    before, after = _ucr("ILCPD00", 2014), _ucr("ILCPD00", 2015)
    result = change(warehouse, "ILCPD00", 2015, Measure.MURDERS)
    m0, m1 = int(before["homs_sum"]), int(after["homs_sum"])
    assert (result["from"], result["to"], result["change"]) == (m0, m1, m1 - m0)
    assert result["change_percent"] == round((m1 - m0) / m0 * 100, 1)
    assert int(before["total_pop"]) != int(after["total_pop"])  # Chicago's 2015 row has the FBI's 2015 estimate
    assert not any("same population" in c for c in result["caveats"])
    assert any("Crime in the U.S. 2015" in c for c in result["caveats"])  # the row's own source column


def test_a_2015_rate_on_the_2014_population_says_so(warehouse: Warehouse) -> None:
    """Miami-Dade's 2015 row repeats its 2014 population; Chicago's does not, and is not said to."""
    before, after = _ucr("FL01300", 2014), _ucr("FL01300", 2015)
    assert before["total_pop"] == after["total_pop"]
    caveats = agency_year(warehouse, "FL01300", 2015).caveats
    assert any("same population as 2014" in c for c in caveats)
    assert not any("same population" in c for c in agency_year(warehouse, "FL01300", 2014).caveats)


def test_a_year_without_data_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(NotFound, match="1975–2015"):
        measure(warehouse, "ILCPD00", 2017, Measure.MURDERS)


def test_chicago_records_between_two_dates_match_the_city_file(warehouse: Warehouse) -> None:
    rows = [r for r in read_csv(DATA_DIR / "chicago_homicides_2001_to_2023_incidents.csv")
            if r["Date"][6:10] == "2016" and r["Date"][:2] in ("01", "02", "03")]  # fmt: skip
    count = chicago_murders(warehouse, date(2016, 1, 1), date(2016, 3, 31))
    assert count.records == len(rows)
    assert count.cases == len({r["Case Number"] for r in rows})


@pytest.mark.parametrize("year", [1975, 2019, 1900])
def test_a_change_without_both_years_names_the_years_that_have_one(warehouse: Warehouse, year: int) -> None:
    with pytest.raises(NotFound, match=f"no change into {year}: .* give a year from 1976 to 2015"):
        change(warehouse, "ILCPD00", year, Measure.MURDERS)


def test_a_murder_count_is_given_only_for_days_the_extract_holds(warehouse: Warehouse) -> None:
    """Asked of 1900 the answer is not "0 murders" but that the extract does not reach back so far."""
    with pytest.raises(InvalidInput, match=r"the City's extract holds records from 20\d\d-\d\d-\d\d to "):
        chicago_murders(warehouse, date(1900, 1, 1), date(1900, 2, 1))
    with pytest.raises(InvalidInput, match="is before its start"):
        chicago_murders(warehouse, date(2016, 3, 1), date(2016, 1, 1))


def test_an_ori_written_in_lower_case_is_the_same_agency(warehouse: Warehouse) -> None:
    assert measure(warehouse, " ilcpd00", 2015, Measure.MURDERS) == measure(warehouse, "ILCPD00", 2015, Measure.MURDERS)
    assert series(warehouse, "ilcpd00", Measure.MURDERS) == series(warehouse, "ILCPD00", Measure.MURDERS)


def test_a_year_the_marshall_project_could_not_fill_is_not_an_annual_count(warehouse: Warehouse) -> None:
    """Found by a review: New Orleans 2005 (six months, before Hurricane Katrina; the README's list of
    counts not for 12 months) was shown as an annual rate, and the change into 2006 as a rise."""
    readme = need_shared() / "data" / "crime" / "marshallproject_city-crime_README.md"
    assert "New Orleans Police Department in 2005" in readme.read_text()
    row = agency_year(warehouse, "LANPD00", 2005)
    assert row.partial_year and any("not an annual count" in c for c in row.caveats)
    result = change(warehouse, "LANPD00", 2006, Measure.MURDERS)
    assert any("measures coverage as much as crime" in c for c in result["caveats"])
    filled = agency_year(warehouse, "VA02901", 1981)  # 11 months in the FBI file, not on the README's list
    assert not filled.partial_year and any("filled the year" in c for c in filled.caveats)


def test_a_violent_crime_change_from_2013_says_rape_was_redefined(warehouse: Warehouse) -> None:
    """Found by a review: D.C.'s violent crime rose 5.8% into 2013, 157 of the 432 more offenses rapes
    counted under the FBI's broader definition, and nothing said so."""
    assert any("broader definition" in c for c in change(warehouse, "DCMPD00", 2013, Measure.VIOLENT)["caveats"])
    assert not any("broader definition" in c for c in change(warehouse, "DCMPD00", 2012, Measure.VIOLENT)["caveats"])
    assert not any("broader definition" in c for c in change(warehouse, "DCMPD00", 2013, Measure.MURDERS)["caveats"])


def test_two_years_counted_by_different_sources_say_so(warehouse: Warehouse) -> None:
    """Found by a review: the check compared the data set's citation, the same for both years, so a
    change from the UCR database's 2014 to the FBI's 2015 tables never said the sources differ."""
    before, after = _ucr("ILCPD00", 2014), _ucr("ILCPD00", 2015)
    assert before["source"] in ("", "NA") and after["source"] not in ("", "NA")
    assert any("different sources" in c for c in change(warehouse, "ILCPD00", 2015, Measure.MURDERS)["caveats"])
    assert not any("different sources" in c for c in change(warehouse, "ILCPD00", 2014, Measure.MURDERS)["caveats"])


def test_a_series_for_charts_and_averages_leaves_partial_years_out(warehouse: Warehouse) -> None:
    """Found by a review: the murders chart plotted Miami-Dade 1975 (11 months) as an annual rate."""
    years = dict(series(warehouse, "FL01300", Measure.MURDERS))
    assert 1975 not in years and 1976 in years


def test_one_source_spelt_two_ways_is_one_source(warehouse: Warehouse) -> None:
    """Found by a review: Baltimore County's 2013 row names "Balitmore County Police", its 2014 row
    "Baltimore County Police", and the change said the sources differ."""
    assert {_ucr("MD00301", 2013)["source"], _ucr("MD00301", 2014)["source"]} == {
        "Balitmore County Police",
        "Baltimore County Police",
    }
    assert not any("different sources" in c for c in change(warehouse, "MD00301", 2014, Measure.MURDERS)["caveats"])
