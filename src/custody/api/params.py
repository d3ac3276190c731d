"""Query parameters shared by the API and the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from custody.domain.divisions import US_STATES

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
# Pages show shorter lists than the API.
PageLimit = Annotated[int, Query(ge=1, le=200, description="Rows on the page")]
# Bounded so a huge offset is a 422, never a database overflow (found by schemathesis).
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip")]
# A division the API can place under a state's law: the country, a state, or a county or place of one
# (custody.domain.divisions.parse_division), so the contract itself says which strings are divisions.
DIVISION_PATTERN = (
    r"^ocd-division/country:us(/state:(" + "|".join(sorted(US_STATES)) + r")(/(county|place):[a-z0-9_.~-]+)?)?$"
)
Division = Annotated[
    str,
    Query(
        pattern=DIVISION_PATTERN, description="Open Civic Data id, e.g. ocd-division/country:us/state:il/county:cook"
    ),
]
