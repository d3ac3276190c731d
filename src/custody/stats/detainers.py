"""Detainer volumes over time: Texas county jails by month (2011–2017) and Travis County (2006–2016).

Both files are compilations the project may not redistribute, so they are read only after the user
imports them. The Texas series is shown around SB 4's effective date (1 Sep 2017); a before/after
comparison describes what changed, and the caveats say why it cannot by itself say what caused it.
"""

from __future__ import annotations

from datetime import date
from statistics import mean
from typing import Any

from custody.domain.errors import NotFound
from custody.stats.datasets import TEXAS, TRAVIS
from custody.stats.warehouse import Warehouse

SB4_EFFECTIVE = date(2017, 9, 1)  # Texas SB 4 (2017), effective date; see the law library's Texas folder


def texas_monthly(w: Warehouse, county: str | None = None) -> list[dict[str, Any]]:
    """Inmates held on ICE detainers per month, statewide or for one county's jail(s).

    A county matches its own jail and the private facilities TCJS lists under its name
    ("frio (private facility)"), since those hold the county's detainees too."""
    table = w.table(TEXAS)
    where, params = "", []
    if county:
        name = county.strip().lower()
        where, params = "WHERE county = ? OR county LIKE ?", [name, f"{name} (%"]
        if not w.rows(f"SELECT 1 FROM {table} {where} LIMIT 1", params):
            raise NotFound(f"no Texas county jail named '{county}' in the TCJS reports (names as in the reports)")
    rows = w.rows(
        f"SELECT make_date(year, month, 1) AS m, sum(inmates), sum(inmate_days), count(*) FROM {table} {where} "
        "GROUP BY m ORDER BY m",
        params,
    )
    repeats = _repeated_months(w)
    return [
        {"month": m.isoformat()[:7], "inmates": int(i), "inmate_days": int(d), "jails": n, "repeats": repeats.get(m)}
        for m, i, d, n in rows
    ]


def _repeated_months(w: Warehouse) -> dict[date, str]:
    """Months whose every jail reports exactly the figures of an earlier month: almost surely a copy made
    in the report or in its parsing, not a count, so they are flagged and left out of comparisons."""
    table = w.table(TEXAS)
    rows = w.rows(
        f"SELECT make_date(b.year, b.month, 1), min(make_date(a.year, a.month, 1)) FROM {table} a JOIN {table} b "
        "ON a.county = b.county AND a.year * 12 + a.month < b.year * 12 + b.month "
        "GROUP BY a.year, a.month, b.year, b.month "
        "HAVING count(*) FILTER (WHERE a.inmates = b.inmates AND a.inmate_days = b.inmate_days) = count(*) "
        f"AND count(*) = (SELECT count(*) FROM {table} c WHERE c.year = b.year AND c.month = b.month)"
    )
    return {later: earlier.isoformat()[:7] for later, earlier in rows}


def texas_around_sb4(w: Warehouse, county: str | None = None) -> dict[str, Any]:
    """The twelve months before SB 4 took effect against the months after that the reports cover."""
    months = texas_monthly(w, county)
    start = date(SB4_EFFECTIVE.year - 1, SB4_EFFECTIVE.month, 1).isoformat()[:7]
    effective = SB4_EFFECTIVE.isoformat()[:7]
    counted = [m for m in months if m["repeats"] is None]
    before = [m["inmates"] for m in counted if start <= m["month"] < effective]
    after = [m["inmates"] for m in counted if m["month"] >= effective]
    repeated = [f"{m['month']} repeats {m['repeats']} in every jail" for m in months if m["repeats"]]
    summary = {
        "place": f"{county.strip().title()} County, Texas" if county else "Texas county jails",
        "sb4_effective": SB4_EFFECTIVE.isoformat(),
        "months_before": len(before),
        "months_after": len(after),
        "mean_inmates_before": round(mean(before), 1) if before else None,
        "mean_inmates_after": round(mean(after), 1) if after else None,
        "mean_inmates_just_before": round(mean(before[-len(after) :]), 1) if after and before else None,
        "source": TEXAS.cite(),
        "caveats": [
            f"the reports end in {months[-1]['month']}: only {len(after)} month(s) after SB 4 took effect; "
            "mean_inmates_just_before averages the same number of months just before it",
            "counts are inmates held on ICE detainers as each jail reported them to TCJS, parsed from PDF reports",
            *(f"{r}: probably a copy, not a count, so it is left out of the means" for r in repeated),
            "a before/after difference cannot separate SB 4 from other changes in the same months, such as the "
            "federal enforcement priorities of January 2017; it shows what changed, not why",
            "a federal court's preliminary injunction of parts of SB 4 (City of El Cenizo v. Texas, W.D. Tex. 30 Aug "
            "2017) stood until the Fifth Circuit stayed it in part on 25 Sep 2017, so September 2017 is counted as "
            "after though the detainer mandate may not yet have been in force",
        ],
        "months": months,
    }
    return summary


# "from Jan. 1, 2006, to Oct. 4, 2016" (travis_README_from_source.md, beside the data in ../shared)
TRAVIS_COVERS = (date(2006, 1, 1), date(2016, 10, 4))


def travis_monthly(w: Warehouse) -> dict[str, Any]:
    """ICE detainers lodged at the Travis County jail per month, with how many had a felony or violent charge."""
    table = w.table(TRAVIS)
    rows = w.rows(
        f"SELECT month, total, coalesce(felony, 0), coalesce(violent, 0), felony IS NULL OR violent IS NULL "
        f"FROM {table} ORDER BY month"
    )
    start, end = TRAVIS_COVERS
    months = [
        {
            "month": m.isoformat()[:7],
            "detainers": t,
            "with_felony_charge": f,
            "with_violent_charge": v,
            "days_covered": end.day if (m.year, m.month) == (end.year, end.month) else None,  # None: the whole month
        }
        for m, t, f, v, _ in rows
    ]
    by_year: dict[int, list[int]] = {}
    for m, total, *_ in rows:
        by_year.setdefault(m.year, []).append(total)
    return {
        "place": "Travis County, Texas",
        # Found by a review: years with months that have no row (2006-2008) were called partial, while
        # the records run from 1 Jan 2006 to 4 Oct 2016, so only 2016 is a part of a year.
        "by_year": [
            {"year": y, "detainers": sum(n), "months_with_detainers": len(n), "whole_year": start.year <= y < end.year}
            for y, n in sorted(by_year.items())
        ],
        "months": months,
        "source": TRAVIS.cite(),
        "caveats": [
            f"{sum(1 for *_, blank in rows if blank)} month(s) have blank felony or violent cells, counted as 0 "
            "(the source does not say what a blank means)",
            f"the records run from {start:%d %b %Y} to {end:%d %b %Y} (the source's README): {end.year} is part of "
            f"a year, and {end:%B %Y} holds {end.day} days",
            f"{_span(start, end) - len(rows)} month(s) in that span have no row, that is no detainer in "
            "the records; the source aggregates its records by month and does not say so itself",
        ],
    }


def _span(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1
