"""A hold ends once, by one of three events, and the table says so (docs/state-machines.md)."""

from __future__ import annotations

import pytest

from custody.domain.errors import IllegalTransition
from custody.release.model import HOLD, HoldState


@pytest.mark.parametrize(
    ("event", "ended"),
    [("hand_over", HoldState.transferred), ("lapse", HoldState.lapsed), ("cancel", HoldState.cancelled)],
)
def test_an_active_hold_ends_once(event: str, ended: HoldState) -> None:
    assert HOLD.fire(HoldState.active, event) is ended
    for again in HOLD.events():
        said = again.replace("_", " ")
        with pytest.raises(IllegalTransition, match=f"hold is {ended.value}: '{said}' cannot happen now"):
            HOLD.fire(ended, again)


def test_every_hold_state_is_in_the_table() -> None:
    drawn = {HOLD.initial} | set(HOLD.transitions.values())
    assert drawn == set(HoldState)
