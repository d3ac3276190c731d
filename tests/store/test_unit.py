"""Ids of rows: their shape, their order in time, and no repeat across a fork (store/unit.py)."""

from __future__ import annotations

import os
import re
import time

import pytest

from custody.store.unit import new_id

SHAPE = re.compile(r"bkg_[0-9a-f]{11}[0-9a-f]{9}")


def test_an_id_is_its_prefix_then_milliseconds_then_36_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id("bkg")
    after = time.time_ns() // 1_000_000
    assert SHAPE.fullmatch(made), made
    assert before <= int(made[4:15], 16) <= after


def test_ids_made_later_sort_after_and_none_repeats() -> None:
    first = [new_id("bkg") for _ in range(20_000)]
    time.sleep(0.002)
    later = new_id("bkg")
    assert len(set(first)) == len(first)
    assert later > max(first)
    # 36 random bits: across 20,000 ids every hex digit of the random part takes many values
    assert all(len({made[15 + i] for made in first}) == 16 for i in range(9))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_draw_its_parents_bits() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, then leave without running the parent's clean-up
        os.close(read)
        os.write(write, " ".join(new_id("bkg")[15:] for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    parent = [new_id("bkg")[15:] for _ in range(8)]
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    assert len(child) == 8
    assert not set(child) & set(parent)
