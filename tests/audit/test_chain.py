"""Altering, deleting or reordering any audit entry is detected and located."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import AuditChainRow, AuditEntryRow


def _broken(custody: Custody, chain: str) -> tuple[int | None, str | None]:
    report = next(r for r in custody.verify_audit() if r.chain == chain)
    assert not report.ok
    return report.first_broken, report.problem


def test_an_altered_entry_is_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        entry = unit.session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 4)
        ).one()
        entry.data = {**entry.data, "tampered": True}
    assert _broken(custody, chain) == (4, "entry 4 was altered after it was written")
    others = [r for r in custody.verify_audit() if r.chain != chain]
    assert others and all(r.ok for r in others), "one chain's damage does not spill onto another's"


def test_a_deleted_entry_is_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        unit.session.execute(delete(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 3))
    assert _broken(custody, chain)[0] == 3


def test_deleting_the_newest_entries_is_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        head = unit.session.get(AuditChainRow, chain)
        assert head is not None
        unit.session.execute(
            delete(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == head.head_seq)
        )
    _first, problem = _broken(custody, chain)
    assert problem is not None and "deleted" in problem


def test_reordered_entries_are_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        rows = {r.seq: r for r in unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.chain == chain))}
        five, six = rows[5], rows[6]
        swapped = {
            k: getattr(six, k) for k in ("recorded_at", "actor", "action", "subject", "data", "prev_hash", "hash")
        }
        original = {k: getattr(five, k) for k in swapped}
        for key in swapped:
            unit.session.execute(
                update(AuditEntryRow)
                .where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 5)
                .values({key: swapped[key]})
            )
            unit.session.execute(
                update(AuditEntryRow)
                .where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 6)
                .values({key: original[key]})
            )
    assert _broken(custody, chain)[0] == 5
