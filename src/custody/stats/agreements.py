"""287(g) agreements by county, from a list the user imports (no licence lets custody ship it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from custody.domain.errors import InvalidInput
from custody.stats.datasets import POLICY_287G
from custody.stats.warehouse import Warehouse


def by_county(w: Warehouse, state: str | None = None, on: date | None = None) -> dict[str, Any]:
    """Agencies with a 287(g) agreement, counted per county (and in force on ``on`` if given)."""
    table = w.table(POLICY_287G)
    if on:
        # An agreement not terminated carries the list's cut-off as its active_to: after that day the
        # list cannot say who still had one (found by a review: Texas on 1 Sep 2017 counted 0).
        (ends,) = w.rows(f"SELECT max(active_to) FROM {table} WHERE NOT terminated")[0]
        if ends is not None and on > ends:
            raise InvalidInput(
                f"the 287(g) list ends on {ends.isoformat()}: it cannot say which agreements were in force on "
                f"{on.isoformat()}; ask for a day up to {ends.isoformat()}"
            )
    where: list[str] = []
    params: list[object] = []
    if state:
        where.append("upper(state) = upper(?)")
        params.append(state)
    if on:
        where.append("active_from <= ? AND (active_to IS NULL OR active_to >= ?)")
        params += [on, on]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = w.rows(
        f"SELECT state, county_name, county_fips_5digit, count(*), string_agg(DISTINCT models, '; '), "
        f"min(first_signed_best), max(active_to) FILTER (WHERE terminated), bool_or(NOT terminated) "
        f"FROM {table} {clause} "
        f"GROUP BY state, county_name, county_fips_5digit ORDER BY state, county_name",
        params,
    )
    counties = [
        {
            "state": s,
            "county": c,
            "fips": f,
            "agreements": n,
            "models": m,
            "first_signed": first.isoformat() if first else None,
            # An agreement not terminated was in force when the list was made: its active_to is the
            # list's cut-off (2017-08-01), not an end, so no last day is known.
            "in_force_at_end_of_list": bool(still),
            "last_in_force": None if still or last is None else last.isoformat(),
        }
        for s, c, f, n, m, first, last, still in rows
    ]
    return {
        "counties": counties,
        "agreements": sum(c["agreements"] for c in counties),
        "source": POLICY_287G.cite(),
        "caveats": [
            "The list is a transcribed subset of pre-2018 agreements with a best-guess active period; "
            "its 'confidence' column says how sure the compilers were.",
            "An agreement names an agency (a sheriff or a city police department), counted here under its county.",
        ],
    }
