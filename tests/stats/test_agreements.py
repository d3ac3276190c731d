"""287(g) agreements by county, recomputed from the imported list read independently as CSV."""

from __future__ import annotations

from collections import Counter
from datetime import date

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
