"""Everything kept sealed at rest, sealed again under the newest data key, so that an older key can
be retired (``custody.store.crypto``, "Rotation"; CJIS Security Policy 5.10.1.2, key management).

The store's sealed columns are read (opened under any configured key) and written back (sealed
under the newest), a batch a transaction, so a run stopped halfway leaves every value readable and
is simply run again. The gallery's records are re-sealed by ``biometrics.reseal``. Each run is
recorded on the ``keys`` audit chain with the counts and the newest key's fingerprint, never a key.

``check_store`` counts what is still sealed under an older key, so that the operator knows when the
old key may go: a process left running on the setting from before seals under the old key, and
what it wrote after the run shows up there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    LargeBinary,
    String,
    Table,
    bindparam,
    func,
    select,
    type_coerce,
    update,
)

from custody.store import crypto
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
        statement = update(table).where(key == bindparam("k")).values({sealed.name: bindparam("v")})

        def seal_again(unit: Unit, rows: Sequence[Any], statement: Any = statement) -> None:
            unit.session.execute(statement, [{"k": k, "v": v} for k, v in rows])

        counts[table.name] = _each_batch(units, table, key, sealed, progress, seal_again)
    return counts


def check_store(units: Callable[[], Any], progress: Progress | None = None) -> dict[str, crypto.Census]:
    """How many of the store's sealed values each table holds under the newest key, under an older
    one, and under none configured (read as stored, never opened for use)."""
    census: dict[str, crypto.Census] = {}
    for table, key, sealed in SEALED:
        tally = census[table.name] = crypto.Census()
        stored = type_coerce(sealed, LargeBinary() if isinstance(sealed.type, crypto.EncryptedBinary) else String())

        def count(_unit: Unit, rows: Sequence[Any], tally: crypto.Census = tally) -> None:
            for _key, token in rows:
                tally.add(token if isinstance(token, bytes) else str(token).encode())

        _each_batch(units, table, key, stored, progress, count)
    return census


def _each_batch(
    units: Callable[[], Any],
    table: Table,
    key: Column[Any],
    column: ColumnElement[Any],
    progress: Progress | None,
    use: Callable[[Unit, Sequence[Any]], None],
) -> int:
    """Read (key, column) of every row of ``table`` in key order, a batch a transaction, and ``use``
    each batch inside its transaction; return how many rows."""
    with units() as unit:
        total = unit.session.scalar(select(func.count()).select_from(table)) or 0
    done, last = 0, None
    while True:
        with units() as unit:
            query = select(key, column).order_by(key).limit(BATCH)
            rows = unit.session.execute(query if last is None else query.where(key > last)).all()
            if not rows:
                break
            use(unit, rows)
        done, last = done + len(rows), rows[-1][0]
        if progress is not None:
            progress(table.name, done, total)
    return done


def record(unit: Unit, counts: dict[str, int], sealed_under: str, keys_configured: int) -> None:
    """The run on the ``keys`` chain, in the name of whoever ran it (the unit's actor)."""
    unit.record(
        CHAIN,
        action=ACTION,
        subject="data-key",
        data={"counts": counts, "sealed_under": sealed_under, "keys_configured": keys_configured},
    )
