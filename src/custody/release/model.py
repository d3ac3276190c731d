"""A detainer hold's lifecycle, as a transition table (drawn in docs/state-machines.md)."""

from __future__ import annotations

from enum import StrEnum

from custody.domain.statemachine import StateMachine


class HoldState(StrEnum):
    active = "active"
    transferred = "transferred"
    lapsed = "lapsed"
    cancelled = "cancelled"


H = HoldState
HOLD = StateMachine[HoldState](
    name="hold",
    initial=H.active,
    transitions={
        (H.active, "hand_over"): H.transferred,  # federal officers took custody within the limit
        (H.active, "lapse"): H.lapsed,  # the legal limit passed: the person was released at it
        (H.active, "cancel"): H.cancelled,  # the request it rests on was withdrawn
    },
    automatic=frozenset({"lapse", "cancel"}),
)
