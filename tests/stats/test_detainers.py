"""Texas and Travis County detainer volumes, imported from ../shared and recomputed with plain csv."""

from __future__ import annotations

from collections import Counter

import pytest

from custody.domain.errors import NotFound
from custody.stats.datasets import TEXAS, TRAVIS
from custody.stats.detainers import texas_around_sb4, texas_monthly, travis_monthly
from custody.stats.warehouse import Warehouse
from tests.stats.conftest import read_csv, shared_file

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]  # fmt: skip


def _texas_totals(county: str | None = None) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for r in read_csv(shared_file(TEXAS.filename)):
        if county is None or r["county"] == county or r["county"].startswith(f"{county} ("):
            totals[f"{r['year']}-{MONTHS.index(r['month']) + 1:02d}"] += int(r["num_of_inmates"])
    return dict(totals)


def test_texas_monthly_totals_match_the_file(imported: Warehouse) -> None:
    assert {m["month"]: m["inmates"] for m in texas_monthly(imported)} == _texas_totals()
    assert {m["month"]: m["inmates"] for m in texas_monthly(imported, "Harris")} == _texas_totals("harris")


def test_a_month_copied_from_another_is_flagged_and_left_out(imported: Warehouse) -> None:
    rows = read_csv(shared_file(TEXAS.filename))
    by_month: dict[str, set[tuple[str, str, str]]] = {}
    for r in rows:
        key = f"{r['year']}-{MONTHS.index(r['month']) + 1:02d}"
        by_month.setdefault(key, set()).add((r["county"], r["num_of_inmates"], r["num_of_inmate_days"]))
    copies = {
        later for later in by_month for earlier in by_month if earlier < later and by_month[earlier] == by_month[later]
    }
    flagged = {m["month"] for m in texas_monthly(imported) if m["repeats"]}
    assert flagged == copies
    summary = texas_around_sb4(imported)
    assert summary["months_before"] == 12 - len({m for m in copies if "2016-09" <= m < "2017-09"})


def test_around_sb4_compares_the_months_before_and_after_1_september_2017(imported: Warehouse) -> None:
    totals = _texas_totals()
    summary = texas_around_sb4(imported)
    after = [v for k, v in totals.items() if k >= "2017-09"]
    assert summary["months_after"] == len(after)
    assert summary["mean_inmates_after"] == round(sum(after) / len(after), 1)
    assert any("cannot separate SB 4" in c for c in summary["caveats"])


def test_an_unknown_county_is_refused(imported: Warehouse) -> None:
    with pytest.raises(NotFound, match="no Texas county jail named 'Atlantis'"):
        texas_monthly(imported, "Atlantis")


def test_travis_totals_by_year_match_the_file(imported: Warehouse) -> None:
    totals: Counter[int] = Counter()
    months: Counter[int] = Counter()
    blanks = 0
    for r in read_csv(shared_file(TRAVIS.filename)):
        totals[int(r["month"][:4])] += int(r["total"])
        months[int(r["month"][:4])] += 1
        blanks += not r["has_at_least_one_felony"] or not r["has_at_least_one_violent_crime"]
    data = travis_monthly(imported)
    assert {y["year"]: y["detainers"] for y in data["by_year"]} == dict(totals)
    assert {y["year"]: y["months_with_detainers"] for y in data["by_year"]} == dict(months)
    # Found by a review: 2006-2008, whole years with months of no detainer, were called partial. The
    # source's README: records "from Jan. 1, 2006, to Oct. 4, 2016"; only 2016 is part of a year.
    readme = shared_file("travis_README_from_source.md").read_text()
    assert "from Jan. 1, 2006, to Oct. 4, 2016" in readme
    assert [y["year"] for y in data["by_year"] if not y["whole_year"]] == [2016]
    assert any(y["months_with_detainers"] < 12 and y["whole_year"] for y in data["by_year"])
    assert data["months"][-1] == {**data["months"][-1], "month": "2016-10", "days_covered": 4}
    assert data["caveats"][0].startswith(f"{blanks} month(s) have blank")
    rows = len(read_csv(shared_file(TRAVIS.filename)))  # the span is Jan 2006 to Oct 2016: 130 months
    assert data["caveats"][2].startswith(f"{130 - rows} month(s) in that span have no row")
