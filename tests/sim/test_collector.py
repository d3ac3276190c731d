"""Objects loaded before a long run are left out of the collector's passes during it, and only then."""

from __future__ import annotations

import gc
import weakref

import pytest

from custody.sim.collector import loaded_objects_frozen


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_what_is_alive_is_frozen_for_the_block_and_garbage_is_collected_first() -> None:
    kept, dropped = Node(), Node()
    gone = weakref.ref(dropped)
    del dropped
    before = gc.get_freeze_count()
    with loaded_objects_frozen():
        assert gone() is None  # collected, not frozen for good
        assert gc.get_freeze_count() > before
        assert not any(o is kept for o in gc.get_objects(generation=2))  # out of the collector's passes
    assert gc.get_freeze_count() == 0
    assert any(o is kept for o in gc.get_objects())


def test_the_block_unfreezes_when_it_fails() -> None:
    with pytest.raises(RuntimeError), loaded_objects_frozen():
        raise RuntimeError("the simulation failed")
    assert gc.get_freeze_count() == 0


def test_a_block_inside_another_neither_collects_nor_unfreezes(monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[int] = []
    real = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(1) or real(*a))
    with loaded_objects_frozen():
        frozen = gc.get_freeze_count()
        with loaded_objects_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # the inner block left the outer one's freeze alone
    assert len(collections) == 1 and gc.get_freeze_count() == 0
