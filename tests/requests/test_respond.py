"""The agency's answer is recorded in its time: never before the request it answers."""

from __future__ import annotations

from datetime import datetime

import pytest

from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.requests.commands import ResponseIn
from custody.service import Custody
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
