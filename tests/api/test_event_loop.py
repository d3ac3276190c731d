"""No route reads the store on the server's event loop: a read there holds every other connection
of that server process until it returns (a POST's check of the user's right to the booking or
request it names did, on each POST of the API and of the pages' forms)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custody.access.tokens import Issuer
from custody.api import queries
from tests.access.support import bearer
from tests.api.test_api import BOOKING, _request


@pytest.fixture
def reads_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The look-ups of a record's place, each noted when it runs where an event loop is running."""
    noted: list[str] = []

    def watched(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def read(*args: Any) -> Any:
            try:
                asyncio.get_running_loop()
                noted.append(name)
            except RuntimeError:
                pass  # a worker thread: no loop runs here
            return real(*args)

        return read

    for name in ("booking_places", "request_place"):
        monkeypatch.setattr(queries, name, watched(name, getattr(queries, name)))
    return noted


def test_the_api_and_the_pages_check_records_off_the_event_loop(
    client: TestClient, issuer: Issuer, reads_on_the_loop: list[str]
) -> None:
    jail, fed = bearer(issuer, "jail_officer@cook"), bearer(issuer, "federal_officer@il")
    booking = client.post("/bookings", json=BOOKING, headers=jail).json()
    issued = client.post("/federal/requests", json=_request(booking["id"]), headers=fed)
    assert issued.status_code == 201, issued.text
    keyed = client.post(
        "/federal/requests",
        json=_request(booking["id"], issued_at="2017-08-16T07:00:00-05:00"),
        headers={**fed, "Idempotency-Key": "loop-1"},
    )
    assert keyed.status_code == 201, keyed.text
    signed_in = client.post("/signin", data={"user": "demo-jail-officer-cook"}, follow_redirects=False)
    assert signed_in.status_code in (302, 303), signed_in.text
    served = client.post(f"/inbox/{issued.json()['id']}/serve", data={"at": "2017-08-16T08:00"}, follow_redirects=False)
    assert served.status_code in (302, 303), served.text
    assert reads_on_the_loop == []
