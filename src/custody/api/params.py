"""Query parameters shared by the API and the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from custody.domain.divisions import US_STATES
from custody.store.paging import MAX_OFFSET, MAX_PAGE

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")]
# Pages show shorter lists than the API.
PageLimit = Annotated[int, Query(ge=1, le=200, description="Rows on the page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
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
