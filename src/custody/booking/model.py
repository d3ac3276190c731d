"""The custody lifecycle of a booking, as a transition table (drawn in docs/state-machines.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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
)


@dataclass(frozen=True)
class Person:
    """The booked person as the booking desk records them."""

    last_name: str
    first_name: str
    date_of_birth: date
    middle_name: str | None = None
    aliases: tuple[str, ...] = ()
    identifiers: dict[str, str] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)

    def age_on(self, day: date) -> int:
        years = day.year - self.date_of_birth.year
        return years - ((day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day))


PERSON_FLAGS = (
    "outstanding_criminal_warrant",
    "gang_database",
    "registered_sex_offender",
    "watchlist_match",
    "prior_removal_and_reentry",
    "final_removal_order",
)
