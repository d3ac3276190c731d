"""A hold's timer that runs late is said aloud: the record keeps the legal limit as the hold's end,
and the log tells the jail to release the person now and to check its timers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from custody.domain.clock import ManualClock
from custody.release.commands import ReleaseIn, TransferIn
from custody.service import Custody
from tests.release.detainer import honored_detainer


def _held(custody: Custody, clock: ManualClock) -> tuple[str, datetime]:
    """Harris County, Texas, October 2017: an I-247A honored under SB 4, a 48-hour hold."""
    clock.set(datetime.fromisoformat("2017-10-05T10:00:00-05:00"))
    booking, _ = honored_detainer(
        custody,
        "ocd-division/country:us/state:tx/county:harris",
        "H-1",
        "2017-10-05T01:00:00-05:00",
        "2017-10-05T02:00:00-05:00",
        {"offense": "theft", "level": "misdemeanor"},
    )
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-10-05T09:00:00-05:00"}))
    (hold,) = custody.booking_view(booking)["holds"]
    return booking, datetime.fromisoformat(hold["expires_at"])


def test_a_lapse_recorded_six_hours_late_is_logged_with_what_to_do(
    custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    booking, expires = _held(custody, clock)
    with caplog.at_level(logging.WARNING, logger="custody.release"):
        assert len(custody.tick(expires + timedelta(hours=6))) == 1
    assert "recorded 6:00:00 later" in caplog.text and "release the person now" in caplog.text
    (hold,) = custody.booking_view(booking)["holds"]
    assert datetime.fromisoformat(hold["ended_at"]) == expires  # the legal end, not the late tick


def test_a_lapse_on_time_is_not_logged(custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    _, expires = _held(custody, clock)
    with caplog.at_level(logging.WARNING, logger="custody.release"):
        assert len(custody.tick(expires + timedelta(seconds=1))) == 1
    assert "later" not in caplog.text


def test_a_hand_over_recorded_hours_after_the_limit_is_kept_and_logged(
    custody: Custody, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Officers who took custody at the limit may record it later; the record keeps their time, and
    the log says it came after the limit, for whoever checks that no one was held past it."""
    booking, expires = _held(custody, clock)
    clock.set(expires + timedelta(hours=3))
    with caplog.at_level(logging.WARNING, logger="custody.release"):
        custody.transfer(booking, TransferIn.model_validate({"at": expires.isoformat(), "officer": {"name": "O"}}))
    assert "recorded 3:00:00 after that limit" in caplog.text
    assert custody.booking_view(booking)["state"] == "transferred"
