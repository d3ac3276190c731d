"""Altering, deleting or reordering any audit entry is detected and located."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from custody.audit import chain as audit_chain
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import AuditChainRow, AuditEntryRow


def _broken(custody: Custody, chain: str) -> tuple[int | None, str | None]:
    report = next(r for r in custody.verify_audit() if r.chain == chain)
    assert not report.ok
    return report.first_broken, report.problem


def _stored_data(custody: Custody, chain: str, seq: int) -> str:
    """An entry's data as the store keeps its text."""
    as_text = "data" if custody.engine.dialect.name == "sqlite" else "CAST(data AS text)"
    with custody.engine.begin() as connection:
        query = text(f"SELECT {as_text} FROM audit_entries WHERE chain = :chain AND seq = :seq")
        (stored,) = connection.execute(query, {"chain": chain, "seq": seq}).one()
    return str(stored)


def _store_data(custody: Custody, chain: str, seq: int, data: str) -> None:
    """Write an entry's data text in place, as someone editing the store directly would."""
    value = ":data" if custody.engine.dialect.name == "sqlite" else "CAST(:data AS json)"
    with custody.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE audit_entries SET data = {value} WHERE chain = :chain AND seq = :seq"),
            {"data": data, "chain": chain, "seq": seq},
        )


def test_an_altered_entry_is_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        entry = unit.session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 4)
        ).one()
        entry.data = {**entry.data, "tampered": True}
    assert _broken(custody, chain) == (4, "entry 4 was altered after it was written")
    with custody.unit() as unit:
        length = len(unit.session.scalars(select(AuditEntryRow.seq).where(AuditEntryRow.chain == chain)).all())
    report = next(r for r in custody.verify_audit() if r.chain == chain)
    assert report.entries == length > 4  # the chain's length, not how far the check got ("2 entries, BROKEN at 2")
    others = [r for r in custody.verify_audit() if r.chain != chain]
    assert others and all(r.ok for r in others), "one chain's damage does not spill onto another's"


def test_a_deleted_entry_is_found(custody: Custody) -> None:
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        unit.session.execute(delete(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == 3))
    assert _broken(custody, chain)[0] == 3


def test_deleting_the_newest_entries_is_found(custody: Custody) -> None:
    chain = _without_its_newest_entry(custody)
    _first, problem = _broken(custody, chain)
    assert problem is not None and "deleted" in problem


def _without_its_newest_entry(custody: Custody) -> str:
    """The seed scenario's Miami-Dade chain, its newest entry deleted: the chain's name."""
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    with custody.unit() as unit:
        head = unit.session.get(AuditChainRow, chain)
        assert head is not None
        unit.session.execute(
            delete(AuditEntryRow).where(AuditEntryRow.chain == chain, AuditEntryRow.seq == head.head_seq)
        )
    return chain


def test_deleting_the_newest_entry_and_the_chain_s_head_is_found(custody: Custody) -> None:
    """Found by a review: with the head row deleted too, the check of the chain's end was skipped."""
    chain = _without_its_newest_entry(custody)
    with custody.unit() as unit:
        unit.session.execute(delete(AuditChainRow).where(AuditChainRow.chain == chain))
    _first, problem = _broken(custody, chain)
    assert problem is not None and "head is missing" in problem


def test_an_entry_edited_into_something_unreadable_is_located(custody: Custody) -> None:
    """Found by a review: on SQLite, a time edited to "garbage" made `custody audit verify` fail
    with "custody failed unexpectedly" instead of naming the entry."""
    if custody.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse such a value when it is written")
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    # each located in its turn, the earliest first (a code review found the last two crashed the check)
    for edit, seq in (("recorded_at = 5", 4), ("recorded_at = 'garbage'", 3), ("data = X'00ff'", 2)):
        with custody.engine.begin() as connection:
            connection.execute(
                text(f"UPDATE audit_entries SET {edit} WHERE chain = :chain AND seq = {seq}"), {"chain": chain}
            )
        first, problem = _broken(custody, chain)
        assert first == seq and problem is not None and "cannot be read" in problem, (edit, problem)
    others = [r for r in custody.verify_audit() if r.chain != chain]
    assert others and all(r.ok for r in others)


def test_an_entry_edited_to_carry_a_key_twice_is_found(custody: Custody) -> None:
    """Found by a review: '"agency":"FORGED",' put in front of an entry's stored data passed the
    check, since the text was decoded (the last value of a key wins) and encoded again, while a
    report reading the column in SQL sees the forged value."""
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    stored = _stored_data(custody, chain, 3)
    key = next(iter(json.loads(stored)))  # a key the entry has: decoded, its later (true) value won
    _store_data(custody, chain, 3, '{"' + key + '":"FORGED",' + stored[1:])
    assert _broken(custody, chain) == (3, "entry 3 was altered after it was written")


def test_an_entry_stored_in_the_layout_of_before_6_december_still_verifies(custody: Custody) -> None:
    """Found by a code review: stores written before 6 December kept an entry's data as json.dumps
    lays it out, its hash over the canonical text; checked over the stored text, every chain of such
    a store read as altered. That layout of the same value verifies; a forged key in it does not."""
    seed_scenarios.miami_dade_lapsed(custody)
    chain = seed_scenarios.MIAMI_DADE
    stored = _stored_data(custody, chain, 3)
    legacy = json.dumps(json.loads(stored))
    assert legacy != stored
    _store_data(custody, chain, 3, legacy)
    assert all(report.ok for report in custody.verify_audit())
    key = next(iter(json.loads(stored)))
    _store_data(custody, chain, 3, '{"' + key + '": "FORGED", ' + legacy[1:])
    assert _broken(custody, chain) == (3, "entry 3 was altered after it was written")


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


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    seq=st.integers(min_value=1, max_value=10**9),
    at=st.datetimes(timezones=st.just(UTC)),
    actor=st.text(),
    action=st.text(),
    subject=st.text(),
    data=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
)
def test_the_hash_covers_the_canonical_text_of_the_whole_entry(
    prev: str, seq: int, at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> None:
    """The entry hash, built without encoding its data twice, is the SHA-256 of the canonical JSON of
    every field together: what anyone re-checking the chain with a JSON library would compute."""
    whole = {"prev": prev, "seq": seq, "at": at.isoformat(), "actor": actor, "action": action, "subject": subject}
    expected = hashlib.sha256(audit_chain.canonical({**whole, "data": data}).encode()).hexdigest()
    assert audit_chain.entry_hash(prev, seq, at, actor, action, subject, data) == expected
