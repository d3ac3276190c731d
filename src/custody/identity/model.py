"""An identification by fingerprints, as a transition table (drawn in docs/state-machines.md).

A 1:N search of a booking's prints that ranks a repository identity at or above the decision
threshold does not open a case by itself: a fingerprint examiner compares the prints and
``confirm``s the candidate (the agency then gets the hit and the record) or ``reject``s it (the
booking is answered as if the prints had found no one). Where the repository is configured to
accept hits without an examiner, the search confirms its best candidate at once, recorded as such.
"""

from __future__ import annotations

from enum import StrEnum

from custody.domain.statemachine import StateMachine


class IdentificationState(StrEnum):
    awaiting_examiner = "awaiting_examiner"
    confirmed = "confirmed"
    rejected = "rejected"


class ExaminerConfirmation(StrEnum):
    """Whether a candidate above the threshold waits for an examiner (``required``) or is a hit at
    once (``auto``)."""

    required = "required"
    auto = "auto"


S = IdentificationState
IDENTIFICATION = StateMachine[IdentificationState](
    name="identification",
    initial=S.awaiting_examiner,
    transitions={
        (S.awaiting_examiner, "confirm"): S.confirmed,
        (S.awaiting_examiner, "reject"): S.rejected,
    },
)
