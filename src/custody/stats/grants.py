"""Grant conditions met or in conflict, per jurisdiction in the law library: a table of
`custody grants check` over every state, county and city custody has law for."""

from __future__ import annotations

from datetime import date
from typing import Any

from custody.domain.divisions import Level
from custody.law.grants import check
from custody.law.loader import Library


def by_jurisdiction(library: Library, fiscal_year: int = 2017, on: date | None = None) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for jurisdiction in library.jurisdictions.values():
        division = jurisdiction.division
        if division.level is Level.federal or division.id in seen:
            continue
        seen.add(division.id)
        report = check(library, division, fiscal_year, on)
        row: dict[str, Any] = {"division": division.id, "name": jurisdiction.name, "on": report["on"]}
        for condition in report["conditions"]:
            row[condition["id"]] = condition["conflict"]
        rows.append(row)
    return sorted(rows, key=lambda r: r["division"])
