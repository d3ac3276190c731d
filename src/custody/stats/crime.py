"""Crime measures by police agency and year: murders and violent crime, counts and rates per 100,000.

A rate is only meaningful with its denominator, so every answer carries the population it divides by
and the caveats of the row it came from: months reported, whose area the agency polices (a county
police department rarely covers the whole county), and changes in how the FBI counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from custody.domain.errors import InvalidInput, NotFound
from custody.stats.datasets import CHICAGO, FBI_2019, UCR
from custody.stats.warehouse import Warehouse

UCR_YEARS = range(1975, 2016)

# Agencies whose FBI 2019 Table 8 row (state, city) is known to be the same police department as the
# UCR file's ORI. Table 8 lists cities only: county departments such as Miami-Dade's are in Table 10.
TABLE8_CITY = {"ILCPD00": ("ILLINOIS", "Chicago"), "FL01306": ("FLORIDA", "Miami")}

# What the Marshall Project's README says about particular agencies (themarshallproject/city-crime).
AGENCY_NOTES = {
    "FL01300": "The Miami-Dade Police Department polices the unincorporated county and contract towns, not the "
    "whole county: its population here is about 1.2 million of the county's 2.7 million; the City of Miami "
    "(ORI FL01306) and other cities have their own police.",
    "ILCPD00": "The FBI excluded Chicago's rape counts from 1984 because of its definition; The Marshall Project "
    "filled them in from the Chicago Police Department. Chicago's violent-crime counts also jump in 1983 and 1984 "
    "(26,404 in 1982, 39,776 in 1983, 60,579 in 1984), mostly aggravated assaults and robberies, which the file's "
    "README does not explain: changes across those years may reflect recording, not crime.",
}


RAPE_REDEFINED = 2013  # the FBI's revised definition of rape (marshallproject_city-crime_README.md)
# "All of our counts are for 12 months of reported crime, except for:" (marshallproject_city-crime_README.md,
# its list of agencies and years, matched to the ORIs of the file's department names)
PARTIAL_YEARS: dict[str, frozenset[int]] = {
    "LANPD00": frozenset({2005}),  # New Orleans: the first six months, before Hurricane Katrina
    "INIPD00": frozenset({1995}),  # Indianapolis
    "NB02802": frozenset({1992}),  # Omaha
    "FL04804": frozenset({1991}),  # Orlando
    "AZ01003": frozenset({1989}),  # Tucson
    "NY05101": frozenset({1975, 1981, 1982, 1983, 1984, 1985, 1986, 1988}),  # Suffolk County
    "MD01721": frozenset({1987}),  # Prince George's County
    "NY02900": frozenset({1983}),  # Nassau County
    "TXHPD00": frozenset({1980, 1981}),  # Houston
    "NY01401": frozenset({1981}),  # Buffalo
    "FL01300": frozenset({1975}),  # Miami-Dade
}


class Measure(StrEnum):
    MURDERS = "murders"
    VIOLENT = "violent"


@dataclass(frozen=True)
class AgencyYear:
    ori: str
    agency: str
    year: int
    murders: int | None
    violent: int | None
    population: int
    months_reported: int | None
    source: str
    caveats: tuple[str, ...]
    # Who counted this row: the UCR database (None), or the file's own source column (the FBI's 2015
    # tables, an agency or newspaper that filled a gap); two years compare alike only from one.
    counted_by: str | None = None
    # Fewer than 12 months and no source that filled the year: not an annual count.
    partial_year: bool = False

    def count(self, measure: Measure) -> int:
        value = self.murders if measure is Measure.MURDERS else self.violent
        if value is None:
            raise NotFound(f"{self.agency} ({self.ori}) {self.year}: {measure.value} is not reported in {self.source}")
        return value

    def per_100k(self, measure: Measure) -> float:
        return self.count(measure) / self.population * 100_000


def agency_year(w: Warehouse, ori: str, year: int) -> AgencyYear:
    """The row for one agency and year, from the UCR file (1975–2015) or FBI Table 8 (2019)."""
    ori = ori.strip().upper()  # ORIs are upper case; "ilcpd00" is the same agency
    if year in UCR_YEARS:
        return _ucr(w, ori, year)
    if year == 2019 and ori in TABLE8_CITY:
        return _table8(w, ori)
    covered = ", ".join(TABLE8_CITY)
    raise NotFound(
        f"no data for {ori} in {year}: the shipped files cover 1975–2015 (UCR, 68 agencies) and 2019 "
        f"(FBI Table 8, cities only; matched to ORIs {covered})"
    )


def _ucr(w: Warehouse, ori: str, year: int) -> AgencyYear:
    table = w.table(UCR)
    found = w.rows(
        f"SELECT line, department_name, homs_sum, violent_crime, total_pop, months_reported, months_reported_raw, "
        f"source, (SELECT p.total_pop FROM {table} p WHERE p.ori = t.ori AND p.year = t.year - 1) "
        f"FROM {table} t WHERE ori = ? AND year = ?",
        [ori, year],
    )
    if not found:
        raise NotFound(f"no UCR row for ORI {ori} in {year}: `custody stats agencies` lists the ORIs the file covers")
    line, name, murders, violent, population, months, months_raw, row_source, population_before = found[0]
    if population is None:
        raise NotFound(f"{name} ({ori}) {year}: the UCR file gives no population, so no rate can be computed")
    caveats = []
    if months is None:
        caveats.append(f"months reported not stated ({months_raw})")
    elif months < 12 and year in PARTIAL_YEARS.get(ori, ()):
        # Found by a review: New Orleans 2005 (six months, before Katrina) was shown as an annual rate.
        caveats.append(
            f"the count covers {months} of 12 months (The Marshall Project's README lists this agency and year "
            "among those it could not fill): it is not an annual count, and its rate is not an annual rate"
        )
    elif months < 12:
        caveats.append(
            f"the FBI file records {months} of 12 months reported; The Marshall Project filled the year "
            f"({row_source or 'its README says its other counts are for 12 months'})"
        )
    if row_source:
        # The file's own source column: the FBI's 2015 tables, or an agency or newspaper that filled a gap.
        caveats.append(f"this row's figures are from {row_source} (the file's source column), not the UCR database")
    if year == 2015 and population == population_before:
        caveats.append(
            "the 2015 rate divides by the same population as 2014 (The Marshall Project used the 2014 estimate "
            "where it had no 2015 one)"
        )
    if ori in AGENCY_NOTES:
        caveats.append(AGENCY_NOTES[ori])
    elif "County" in name:
        caveats.append("a county police department: its area is part of the county, not necessarily all of it")
    return AgencyYear(
        ori=ori,
        agency=name,
        year=year,
        murders=murders,
        violent=violent,
        population=population,
        months_reported=months,
        source=f"{UCR.cite()}; {UCR.filename} line {line}",
        caveats=tuple(caveats),
        counted_by=row_source or None,
        partial_year=months is not None and months < 12 and year in PARTIAL_YEARS.get(ori, ()),
    )


def _table8(w: Warehouse, ori: str) -> AgencyYear:
    state, city = TABLE8_CITY[ori]
    table = w.table(FBI_2019)
    line, murders, violent, population = w.rows(
        f"SELECT line, murder, violent_crime, population FROM {table} WHERE state = ? AND city = ?", [state, city]
    )[0]
    return AgencyYear(
        ori=ori,
        agency=city,
        year=2019,
        murders=murders,
        violent=violent,
        population=population,
        months_reported=None,
        source=f"{FBI_2019.cite()}; {FBI_2019.filename} line {line}",
        caveats=("FBI Table 8 counts offenses known to the city's police, for the city's population",),
    )


def measure(w: Warehouse, ori: str, year: int, which: Measure) -> dict[str, Any]:
    """The contract of `custody stats murders|violent`: count, population, rate, source, caveats."""
    row = agency_year(w, ori, year)
    return {
        "agency": row.agency,
        "ori": row.ori,
        "year": row.year,
        which.value: row.count(which),
        "population": row.population,
        "per_100k": round(row.per_100k(which), 2),
        "months_reported": row.months_reported,
        "source": row.source,
        "caveats": list(row.caveats),
    }


def change(w: Warehouse, ori: str, year: int, which: Measure) -> dict[str, Any]:
    """Year-over-year change in count and rate; both years' caveats travel with it, since a change
    in coverage (months reported, boundaries, definitions) can look like a change in crime."""
    if year - 1 not in UCR_YEARS or year not in UCR_YEARS:
        first, last = UCR_YEARS[0] + 1, UCR_YEARS[-1]
        raise NotFound(
            f"no change into {year}: a year's change needs it and the year before in the UCR file, so give a year "
            f"from {first} to {last}"
        )
    before, after = agency_year(w, ori, year - 1), agency_year(w, ori, year)
    count_before, count_after = before.count(which), after.count(which)
    rate_before, rate_after = before.per_100k(which), after.per_100k(which)
    caveats = list(dict.fromkeys([*before.caveats, *after.caveats]))
    # Each row's own counter, not the data set's citation, which is the same for both (found by a
    # review: 2014 from the UCR database against 2015 from the FBI's tables went without a word).
    if (_counter(before.counted_by), before.source.split(";")[0]) != (
        _counter(after.counted_by),
        after.source.split(";")[0],
    ):
        caveats.append("the two years come from different sources, which may count differently")
    if before.partial_year or after.partial_year:
        caveats.append("a change to or from a year counted for fewer than 12 months measures coverage as much as crime")
    if which is Measure.VIOLENT and year >= RAPE_REDEFINED:
        caveats.append(
            f"from {RAPE_REDEFINED} the FBI counts rape under a broader definition, which agencies adopted at "
            "different times (the Marshall Project's README), so violent crime may not be counted alike in the "
            "two years"
        )
    if before.population == after.population:
        caveats.append("both years use the same population figure, so the rate change equals the count change")
    return {
        "agency": after.agency,
        "ori": ori,
        "measure": which.value,
        "from_year": year - 1,
        "to_year": year,
        "from": count_before,
        "to": count_after,
        "change": count_after - count_before,
        "change_percent": _percent(count_before, count_after),
        "from_per_100k": round(rate_before, 2),
        "to_per_100k": round(rate_after, 2),
        "rate_change_percent": _percent(rate_before, rate_after),
        "sources": list(dict.fromkeys([before.source, after.source])),
        "caveats": caveats,
    }


# Spellings of one source the file's source column writes differently (found by a review: Baltimore
# County's 2013 and 2014 rows name the same police department, one of them misspelt).
_SAME_SOURCE = {"balitmore county police": "baltimore county police"}


def _counter(source: str | None) -> str | None:
    if source is None:
        return None
    name = " ".join(source.casefold().split())
    return _SAME_SOURCE.get(name, name)


def _percent(before: float, after: float) -> float | None:
    return None if before == 0 else round((after - before) / before * 100, 1)


def series(w: Warehouse, ori: str, which: Measure) -> list[tuple[int, float]]:
    """(year, rate per 100,000) for every UCR year where the agency reported the count and population,
    except a year counted for fewer than 12 months (``PARTIAL_YEARS``): its rate is not annual, and a
    chart or an average would show it as one (found by a review: Miami-Dade 1975, 11 months)."""
    ori = ori.strip().upper()
    column = "homs_sum" if which is Measure.MURDERS else "violent_crime"
    table = w.table(UCR)
    rows = w.rows(
        f"SELECT year, {column} * 100000.0 / total_pop FROM {table} "
        f"WHERE ori = ? AND {column} IS NOT NULL AND total_pop IS NOT NULL ORDER BY year",
        [ori],
    )
    if not rows:
        raise NotFound(f"no UCR rows for ORI {ori}: `custody stats agencies` lists the ORIs the file covers")
    partial = PARTIAL_YEARS.get(ori, frozenset())
    return [(int(y), float(r)) for y, r in rows if int(y) not in partial]


def agencies(w: Warehouse) -> list[dict[str, Any]]:
    table = w.table(UCR)
    rows = w.rows(
        f"SELECT ori, any_value(department_name), min(year), max(year) FROM {table} WHERE ori IS NOT NULL "
        "GROUP BY ori ORDER BY 2"
    )
    return [{"ori": o, "agency": n, "from_year": a, "to_year": b, "fbi_2019": o in TABLE8_CITY} for o, n, a, b in rows]


@dataclass(frozen=True)
class ChicagoCount:
    records: int
    cases: int
    start: date
    end: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "place": "Chicago",
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "records": self.records,
            "distinct_cases": self.cases,
            "source": CHICAGO.cite(),
            "caveats": [
                "first-degree murder (IUCR 0110) only: the extract leaves out other homicide codes",
                "records sharing one case number, time and block suggest one record per victim, so records "
                "approximate victims and distinct cases approximate incidents",
                "the City's counts are revised over time and differ from CPD's year-end and the FBI's totals",
            ],
        }


def chicago_murders(w: Warehouse, start: date, end: date) -> ChicagoCount:
    """First-degree murder records in the City of Chicago's extract from ``start`` to ``end`` inclusive."""
    if end < start:
        raise InvalidInput(f"the end of the range ({end}) is before its start ({start}); give the earlier date first")
    table = w.table(CHICAGO)
    first, last = w.rows(f"SELECT CAST(min(date) AS DATE), CAST(max(date) AS DATE) FROM {table}")[0]
    if start < first or end > last:
        # A count over days the extract does not hold would read as a count of zero murders.
        raise InvalidInput(
            f"the City's extract holds records from {first} to {last}; {start} to {end} is not within it, so "
            "no count can be given for those days"
        )
    records, cases = w.rows(
        f"SELECT count(*), count(DISTINCT case_number) FROM {table} WHERE CAST(date AS DATE) BETWEEN ? AND ?",
        [start, end],
    )[0]
    return ChicagoCount(records=records, cases=cases, start=start, end=end)


def chicago_monthly(w: Warehouse) -> list[tuple[date, int]]:
    table = w.table(CHICAGO)
    rows = w.rows(f"SELECT CAST(date_trunc('month', date) AS DATE) m, count(*) FROM {table} GROUP BY m ORDER BY m")
    return [(m, int(n)) for m, n in rows]
