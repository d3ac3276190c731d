"""Everything kept sealed at rest, sealed again under the newest data key, so that an older key can
be retired (``custody.store.crypto``, "Rotation"; CJIS Security Policy 5.10.1.2, key management).

The store's sealed columns are read (opened under any configured key) and written back (sealed
under the newest), a batch a transaction, so a run stopped halfway leaves every value readable and
is simply run again. The gallery's records are re-sealed by ``biometrics.reseal``. Each run is
recorded on the ``keys`` audit chain with the counts and the newest key's fingerprint, never a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, update

from custody.store.models import FingerprintImageRow, WebhookSubscriptionRow
from custody.store.unit import Unit

CHAIN = "keys"
ACTION = "DataResealed"
BATCH = 500
# (table, key column, sealed column) of every value custody seals in the store
SEALED: tuple[tuple[Table, Column[Any], Column[Any]], ...] = tuple(
    (row.__table__, row.__table__.c.id, row.__table__.c[name])  # type: ignore[misc]
    for row, name in ((FingerprintImageRow, "data"), (WebhookSubscriptionRow, "secret"))
)

Progress = Callable[[str, int, int], None]  # (table, values done, values in all)


def reseal_store(units: Callable[[], Any], progress: Progress | None = None) -> dict[str, int]:
    """Seal every sealed value of the store under the newest key; return the count per table.
    ``units`` opens a unit of work (a transaction) for each batch."""
    counts: dict[str, int] = {}
    for table, key, sealed in SEALED:
        with units() as unit:
            total = unit.session.scalar(select(func.count()).select_from(table)) or 0
        done, last = 0, None
        while True:
            with units() as unit:
                query = select(key, sealed).order_by(key).limit(BATCH)
                rows = unit.session.execute(query if last is None else query.where(key > last)).all()
                if not rows:
                    break
                statement = update(table).where(key == bindparam("k")).values({sealed.name: bindparam("v")})
                unit.session.execute(statement, [{"k": k, "v": v} for k, v in rows])
            done, last = done + len(rows), rows[-1][0]
            if progress is not None:
                progress(table.name, done, total)
        counts[table.name] = done
    return counts


def record(unit: Unit, counts: dict[str, int], sealed_under: str, keys_configured: int) -> None:
    """The run on the ``keys`` chain, in the name of whoever ran it (the unit's actor)."""
    unit.record(
        CHAIN,
        action=ACTION,
        subject="data-key",
        data={"counts": counts, "sealed_under": sealed_under, "keys_configured": keys_configured},
    )
