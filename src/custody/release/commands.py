"""What the agency and the federal officers record at release time."""

from __future__ import annotations

from pydantic import Field

from custody.booking.model import ReleaseReason
from custody.domain.inputs import AwareTime, Strict
from custody.requests.commands import OfficerIn


class ReleaseIn(Strict):
    """The person becomes eligible for release (bail posted, charges dismissed, sentence served)."""

    reason: ReleaseReason
    at: AwareTime
    federal_officers_present: OfficerIn | None = None
    detainer_not_served: bool = Field(
        default=False,
        description=(
            "The officer states that an I-247A on record was never served on the person: it did not take "
            "effect (DHS Form I-247A), so it holds no one and the person goes free; the timeline records why."
        ),
    )


class TransferIn(Strict):
    """Federal officers take the person into federal custody."""

    at: AwareTime
    officer: OfficerIn
