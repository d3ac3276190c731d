"""What the federal side may issue: a request the law library cannot decide is refused at once."""

from __future__ import annotations

from datetime import datetime

import pytest

from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, InvalidInput
from custody.requests.commands import CancelIn, RequestIn
from custody.service import Custody
from tests.release.detainer import booked, i247a


def test_a_request_dated_before_the_library_s_first_law_is_refused_and_nothing_recorded(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: a request of 1985 was accepted, could not be decided when it reached the jail
    (dead-lettered), and then kept the person from being released and itself from being answered."""
    clock.set(datetime.fromisoformat("1995-03-02T12:00:00-05:00"))
    booking = booked(
        custody, "ocd-division/country:us/state:fl/county:miami-dade", "OLD-1", "1995-03-01T01:00:00-05:00"
    )
    document = {
        "booking_id": booking,
        "form": "I-247",
        "officer": {"name": "O"},
        "issued_at": "1995-03-01T06:00:00-05:00",
    }
    with pytest.raises(InvalidInput, match=r"library begins on 1997-04-01 .* issued on 1995-03-01"):
        custody.issue_request(RequestIn.model_validate(document))
    assert custody.booking_view(booking)["requests"] == []


def test_a_second_cancellation_before_the_first_reaches_the_jail_is_refused(
    custody: Custody, clock: ManualClock
) -> None:
    """Found by a review: with the agency's worker applying messages later, a request stayed open
    until it did, so a second cancellation was accepted (200) and then dead-lettered."""
    clock.set(datetime.fromisoformat("2017-08-16T12:00:00-05:00"))
    booking = booked(custody, "ocd-division/country:us/state:il/county:cook", "CX-1", "2017-08-16T01:00:00-05:00")
    request = i247a(custody, booking, "2017-08-16T05:00:00-05:00", delivered=False)
    federal = custody.acting_for("federal", inline=False)
    withdrawn = CancelIn.model_validate({"at": "2017-08-16T06:00:00-05:00", "reason": "no longer sought"})
    federal.cancel(request, withdrawn)
    with pytest.raises(Conflict, match="already cancelled; the cancellation is on its way"):
        federal.cancel(request, withdrawn)
