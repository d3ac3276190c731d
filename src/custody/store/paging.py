"""One page of a query and the total it pages through: every list of the API, pages and CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

# The bounds of every list's page, in the API and on the command line: a page of at most 500, and an
# offset small enough that no store overflows on it (found by schemathesis).
MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000


def page(
    session: Session, query: Select[Any] | Select[Any, Any], limit: int, offset: int, *order: Any, entities: bool = True
) -> tuple[int, list[Any]]:
    """``(total, rows)``: the entities of a one-entity query, or row tuples with ``entities=False``."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    result = session.execute(query.order_by(*order).limit(limit).offset(offset))
    return total, list(result.scalars() if entities else result)
