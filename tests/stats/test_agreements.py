"""287(g) agreements by county, recomputed from the imported list read independently as CSV."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import pytest
from rich.console import Console

from custody.domain.errors import InvalidInput
from custody.stats import cli as stats_cli
from custody.stats.agreements import by_county
from custody.stats.datasets import POLICY_287G
from custody.stats.warehouse import Warehouse
from tests.conftest import need_shared
from tests.stats.conftest import read_csv


def test_agreements_are_counted_per_county_as_the_file_lists_them(warehouse: Warehouse) -> None:
    path = need_shared() / "data" / "policy" / POLICY_287G.filename
    warehouse.load(POLICY_287G, path)
    rows = read_csv(path)
    result = by_county(warehouse)
    assert result["agreements"] == len(rows)
    expected = Counter((r["state"], r["county_name"]) for r in rows)
    assert {(c["state"], c["county"]): c["agreements"] for c in result["counties"]} == dict(expected)
    texas = by_county(warehouse, state="texas")
    assert texas["agreements"] == sum(1 for r in rows if r["state"] == "TEXAS")
    on = date(2012, 1, 1)
    active = [
        r
        for r in rows
        if r["active_from"]
        and date.fromisoformat(r["active_from"]) <= on
        and (not r["active_to"] or date.fromisoformat(r["active_to"]) >= on)
    ]
    assert by_county(warehouse, on=on)["agreements"] == len(active)


def test_a_county_with_an_agreement_still_open_has_no_last_day(warehouse: Warehouse) -> None:
    """An agreement not terminated was in force when the list was made; the list's cut-off is not its end."""
    path = need_shared() / "data" / "policy" / POLICY_287G.filename
    warehouse.load(POLICY_287G, path)
    rows = read_csv(path)
    open_counties = {(r["state"], r["county_name"]) for r in rows if r["terminated"] == "FALSE"}
    ended = {(r["state"], r["county_name"]) for r in rows} - open_counties
    counties = {(c["state"], c["county"]): c for c in by_county(warehouse)["counties"]}
    assert open_counties and ended
    for key in open_counties:
        assert counties[key]["in_force_at_end_of_list"] is True and counties[key]["last_in_force"] is None
    for key in ended:
        last = max(r["active_to"] for r in rows if (r["state"], r["county_name"]) == key and r["terminated"] == "TRUE")
        assert counties[key]["in_force_at_end_of_list"] is False and counties[key]["last_in_force"] == last


def test_a_day_after_the_list_ends_is_refused_and_an_empty_answer_prints(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: Texas on 1 Sep 2017, a month after the list's cut-off, counted 0 agreements
    (17 the month before), and the text output of an empty answer failed."""
    path = need_shared() / "data" / "policy" / POLICY_287G.filename
    warehouse.load(POLICY_287G, path)
    ends = max(r["active_to"] for r in read_csv(path) if r["terminated"] == "FALSE")
    with pytest.raises(InvalidInput, match=f"the 287\\(g\\) list ends on {ends}"):
        by_county(warehouse, state="texas", on=date.fromisoformat(ends) + timedelta(days=1))
    assert by_county(warehouse, state="texas", on=date.fromisoformat(ends))["agreements"] > 0
    assert by_county(warehouse, state="vermont")["counties"] == []
    monkeypatch.setattr(stats_cli, "out", Console(file=io.StringIO()))
    stats_cli._emit([], False, "287(g) agreements by county")
    assert "287(g) agreements by county: none" in stats_cli.out.file.getvalue()  # type: ignore[attr-defined]
