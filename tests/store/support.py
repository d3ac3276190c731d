"""Tables as earlier migrations left them, for tests that fill a store at an old revision and
upgrade it. (A migration keeps its own description of the tables it changes: it must not depend on
code that changes after it.)"""

from __future__ import annotations

import sqlalchemy as sa

from custody.store.types import UTCDateTime


def inbox_before_0006() -> sa.TableClause:
    """The inbox from migration 0002 to 0005, with its copy of each message (type, subject, data)."""
    return sa.table(
        "inbox",
        *(sa.column(c) for c in ("party", "message_id", "type", "subject")),
        sa.column("data", sa.JSON()),
        sa.column("applied_at", UTCDateTime()),
    )
