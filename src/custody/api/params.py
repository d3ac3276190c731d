"""Query parameters shared by the API and the pages."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator

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


def _calendar_day(value: Any) -> Any:
    """A date in a query is written YYYY-MM-DD: pydantic alone would also take a number, as seconds
    since 1970 (``?on=0`` read as 1 January 1970; found by schemathesis)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"'{value}' is not a date; write YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_calendar_day)]
