"""The seed article's claims: verdicts checked against figures recomputed here from the files."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import pytest

from custody.stats.claims import SPEECH_DATE, Verdict, check_claims
from custody.stats.datasets import CHICAGO, DATA_DIR, FTE_2015, UCR
from custody.stats.published import PUBLISHED
from custody.stats.warehouse import Warehouse
from tests.conftest import need_shared
from tests.stats.conftest import read_csv


@pytest.fixture(scope="module")
def claims(warehouse: Warehouse) -> dict[str, tuple[str, Verdict, str]]:
    return {c.quote: (c.figure, c.verdict, c.why) for c in check_claims(warehouse)}


def _verdict(claims: dict[str, tuple[str, Verdict, str]], start: str) -> tuple[str, Verdict, str]:
    return next(v for k, v in claims.items() if k.startswith(start))


def test_every_quote_is_in_the_seed_article(warehouse: Warehouse) -> None:
    seed = "".join(p.read_text(encoding="utf-8") for p in (need_shared() / "seed").glob("*.txt"))
    for claim in check_claims(warehouse):
        assert claim.quote in seed, claim.quote
        assert claim.figure and claim.source and claim.why


def test_chicago_so_far_is_supported_by_the_city_records(claims: dict[str, tuple[str, Verdict, str]]) -> None:
    days = [datetime.strptime(r["Date"], "%m/%d/%Y %I:%M:%S %p").date() for r in read_csv(DATA_DIR / CHICAGO.filename)]
    records = [d for d in days if d.year == 2017 and d <= SPEECH_DATE]
    figure, verdict, _ = _verdict(claims, "More than 433")
    assert f"{len(records)} first-degree murder records" in figure
    assert verdict is (Verdict.SUPPORTED if len(records) > 433 else Verdict.NOT_SUPPORTED)


def test_national_eleven_percent_matches_2015_not_2016(claims: dict[str, tuple[str, Verdict, str]]) -> None:
    national = {r["year"]: r for r in read_csv(DATA_DIR / UCR.filename) if r["department_name"] == "National"}
    rise = (int(national["2015"]["homs_sum"]) - int(national["2014"]["homs_sum"])) / int(national["2014"]["homs_sum"])
    change_2016 = next(p.value for p in PUBLISHED if p.id == "us_murders_change_2016")
    figure, verdict, _ = _verdict(claims, "The national murder rate")
    assert f"{rise * 100:+.1f}%" in figure
    assert abs(rise * 100 - 11) < 1 and abs(change_2016 - 11) >= 1
    assert verdict is Verdict.PARTLY


def test_most_cities_up_counts_the_fivethirtyeight_cities(claims: dict[str, tuple[str, Verdict, str]]) -> None:
    rows = read_csv(DATA_DIR / FTE_2015.filename)
    up = sum(int(r["2015_murders"]) > int(r["2014_murders"]) for r in rows)
    figure, verdict, _ = _verdict(claims, "most major cities")
    assert f"murders rose in {up} of {len(rows)} cities" in figure
    assert verdict is (Verdict.PARTLY if up > len(rows) / 2 else Verdict.NOT_SUPPORTED)


def test_one_third_uses_the_police_area_rate_against_its_1980s_average(
    claims: dict[str, tuple[str, Verdict, str]],
) -> None:
    rows = {int(r["year"]): r for r in read_csv(DATA_DIR / UCR.filename) if r["ORI"] == "FL01300"}
    eighties = sum(int(rows[y]["homs_sum"]) / int(rows[y]["total_pop"]) for y in range(1980, 1990)) / 10
    share = int(rows[2015]["homs_sum"]) / int(rows[2015]["total_pop"]) / eighties
    figure, verdict, _ = _verdict(claims, "the murder rate in Miami-Dade is now")
    assert f"({share:.0%})" in figure
    assert verdict is (Verdict.SUPPORTED if 0.25 <= share <= 0.42 else Verdict.NOT_SUPPORTED)


def test_chicago_climbing_each_year_is_not_supported_when_any_year_fell(
    claims: dict[str, tuple[str, Verdict, str]],
) -> None:
    rates = [float(r["violent_per_100k"]) for r in read_csv(DATA_DIR / UCR.filename) if r["ORI"] == "ILCPD00"]
    falls = sum(b < a for a, b in pairwise(rates))
    _, verdict, why = _verdict(claims, "allow crime rates")
    assert f"fell in {falls} of {len(rates) - 1} years" in why
    assert verdict is (Verdict.NOT_SUPPORTED if falls else Verdict.SUPPORTED)


def test_the_causal_claim_is_not_checkable_and_says_why(claims: dict[str, tuple[str, Verdict, str]]) -> None:
    _, verdict, why = _verdict(claims, "The culprit?")
    assert verdict is Verdict.NOT_CHECKABLE
    assert "cannot establish causation" in why


def test_not_checkable_claims_name_the_data_that_would_settle_them(warehouse: Warehouse) -> None:
    for claim in check_claims(warehouse):
        if claim.verdict is Verdict.NOT_CHECKABLE:
            assert claim.source.startswith("Would")


def test_published_figures_each_carry_a_source_and_an_honest_tag() -> None:
    assert {p.tag for p in PUBLISHED} <= {"V", "M"}
    assert all(p.source for p in PUBLISHED)
    assert len({p.id for p in PUBLISHED}) == len(PUBLISHED)
    populations = [p for p in PUBLISHED if p.id.endswith("_population_2016")]
    assert populations and all(p.tag == "M" for p in populations)
