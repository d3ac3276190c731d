"""Query parameters shared by the API and the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
# Pages show shorter lists than the API.
PageLimit = Annotated[int, Query(ge=1, le=200, description="Rows on the page")]
# Bounded so a huge offset is a 422, never a database overflow (found by schemathesis).
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip")]
