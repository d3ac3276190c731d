"""The chaos run with the API server killed too: bookings and requests posted over HTTP with
Idempotency-Key retries while the server and the workers die with SIGKILL; nothing accepted is
lost, nothing is stored or applied twice, no hold runs past its limit, every request is decided.
A run that never settles says what it was still waiting for."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.exchange import chaos
from custody.exchange.worker import process
from custody.service import Custody
from custody.sim import seed_scenarios
from tests.conftest import POSTGRES_URL, _postgres_schema_url


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killing_the_api_server_and_workers_loses_and_duplicates_nothing(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_VAR", str(tmp_path))
    if store == "postgres":
        _postgres_schema_url()  # skips, or fails under CI, when the server is absent
        monkeypatch.setenv("CUSTODY_DATABASE_URL", POSTGRES_URL)
    report = chaos.run(bookings=10, kills=1, store=store, transport="inproc", seed=5, timeout=240, api_kills=3)
    assert report.api_kills == 3 and report.kills == 1
    assert report.line() == "lost=0 duplicated=0 overdue_holds=0 decided=10/10", report.details
    assert report.ok


def test_an_unsettled_run_names_each_message_still_waiting(custody: Custody, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2017-08-16T10:00:00-05:00"))
    queued = Custody(custody.engine, clock, actor="test", inline=False)  # no worker applies anything
    queued.book(
        BookingIn.model_validate(
            {
                "agency": seed_scenarios.COOK,
                "booking_number": "B-1",
                "booked_at": "2017-08-16T09:00:00-05:00",
                "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        )
    )
    _, pending, unapplied, due, dead = chaos._stuck(queued)
    assert pending.startswith("pending deliveries: gov.custody.booking.fingerprints_submitted.v1 to federal attempts 0")
    assert unapplied.endswith("gov.custody.booking.fingerprints_submitted.v1 to federal delivery pending attempts 0")
    assert (due, dead) == ("holds due: none", "dead letters: none")

    assert process(queued, "federal") == 1 and process(queued, "local:*") == 1
    assert chaos._stuck(queued)[1:3] == ["pending deliveries: none", "unapplied messages: none"]
