"""The agency's answer is recorded in its time: never before the request it answers."""

from __future__ import annotations

from datetime import datetime

import pytest

from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.requests.commands import ResponseIn, ServeIn
from custody.service import Custody
from custody.sim import seed_scenarios
from tests.release.test_release_all import _book, _detainer


def test_an_answer_timed_before_its_request_is_refused_and_nothing_recorded(
    custody: Custody, clock: ManualClock
) -> None:
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    request = _detainer(custody, _book(custody, "R-1"))  # issued at 02:00 local
    with pytest.raises(InvalidInput, match="cannot come before the request was issued"):
        custody.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T01:59:00-05:00")))
    assert custody.request_view(request)["state"] == "decided"
    custody.respond(request, ResponseIn(at=datetime.fromisoformat("2017-10-05T02:00:00-05:00")))
    assert custody.request_view(request)["state"] == "responded"


def test_a_permitted_action_declined_says_it_was_the_agencys_choice(custody: Custody) -> None:
    """Found by an audit: Cook County's declined hand-over gave as its reason the federal rule that
    permits it ("A detainer asks the agency to advise DHS…"), which reads as an argument for it."""
    outcome = seed_scenarios.chicago_then_cook(custody)
    transfer = custody.request_view(outcome.request_id)["response"]["answers"]["transfer"]
    assert (transfer["answer"], transfer["status"]) == ("decline", "permitted")
    assert transfer["reason"].startswith("Declined by the agency's choice: the law permits it and does not require it")
    hold = custody.request_view(outcome.request_id)["response"]["answers"]["hold"]
    assert hold["status"] == "prohibited" and hold["reason"].startswith("Prohibited under")  # the law's own words


def test_a_copy_served_before_the_request_was_issued_is_refused(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    request = _detainer(custody, _book(custody, "R-2"))  # issued at 02:00 local
    with pytest.raises(InvalidInput, match=r"cannot be served .* before the request was issued"):
        custody.serve(request, ServeIn(at=datetime.fromisoformat("2016-01-01T10:00:00-06:00")))
    assert custody.request_view(request)["served_at"] is None
