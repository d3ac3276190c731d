"""The custody lifecycle of a booking, as a transition table (drawn in docs/state-machines.md)."""

from __future__ import annotations

from enum import StrEnum

from custody.domain.statemachine import StateMachine


class CustodyState(StrEnum):
    in_custody = "in_custody"
    release_scheduled = "release_scheduled"
    held_on_detainer = "held_on_detainer"
    released = "released"
    transferred = "transferred"


class ReleaseReason(StrEnum):
    bail = "bail"
    dismissal = "dismissal"
    sentence_served = "sentence_served"
    acquittal = "acquittal"
    own_recognizance = "own_recognizance"
    other = "other"


S = CustodyState
CUSTODY = StateMachine[CustodyState](
    name="booking",
    initial=S.in_custody,
    transitions={
        (S.in_custody, "move_to_agency"): S.in_custody,
        (S.in_custody, "schedule_release"): S.release_scheduled,
        (S.release_scheduled, "schedule_release"): S.release_scheduled,
        (S.release_scheduled, "move_to_agency"): S.release_scheduled,
        (S.in_custody, "release"): S.released,
        (S.release_scheduled, "release"): S.released,
        (S.in_custody, "start_hold"): S.held_on_detainer,
        (S.release_scheduled, "start_hold"): S.held_on_detainer,
        (S.in_custody, "transfer_to_federal"): S.transferred,
        (S.release_scheduled, "transfer_to_federal"): S.transferred,
        (S.held_on_detainer, "transfer_to_federal"): S.transferred,
        (S.held_on_detainer, "lapse_hold"): S.released,
    },
    automatic=frozenset({"start_hold", "lapse_hold"}),
)


PERSON_FLAGS = (
    "outstanding_criminal_warrant",
    "gang_database",
    "registered_sex_offender",
    "watchlist_match",
    "prior_removal_and_reentry",
    "final_removal_order",
)
