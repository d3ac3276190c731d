"""A form on another origin cannot act with an officer's sign-in cookie (found by a review: a POST to
/desk with the cookie and Origin: http://evil.example booked a person; the sign-in and sign-out forms
could be submitted from another site too)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from custody.access.roles import DEMO_USERS
from custody.access.tokens import Issuer
from custody.api.auth import COOKIE
from custody.api.origin import cross_origin
from custody.service import Custody
from tests.access.support import bearer, client, issuer  # noqa: F401 (fixtures)

BOOKING = {
    "booking_number": "CSRF-1",
    "last_name": "Doe",
    "first_name": "Ann",
    "date_of_birth": "1990-01-01",
    "charge": "theft",
    "charge_level": "misdemeanor",
}


def _desk(client: TestClient, headers: dict[str, str]) -> int:  # noqa: F811
    return client.post("/desk", data=BOOKING, headers=headers, follow_redirects=False).status_code


def test_a_form_from_another_origin_is_refused_and_nothing_is_done(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    client.cookies.set(COOKIE, issuer.mint(DEMO_USERS["demo-jail-officer-cook"]))
    refused = client.post("/desk", data=BOOKING, headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert "another origin (http://evil.example)" in refused.json()["detail"]
    assert custody.list_bookings(10, 0)[0] == 0
    for other in ({"Origin": "http://testserver:8001"}, {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"}):
        assert _desk(client, other) == 403, other
    signin = client.post("/signin", data={"user": "demo-administrator"}, headers={"Origin": "http://evil.example"})
    assert signin.status_code == 403 and "set-cookie" not in signin.headers
    assert client.post("/signout", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False).status_code == 403


def test_the_page_s_own_forms_and_bearer_clients_go_through(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    client.cookies.set(COOKIE, issuer.mint(DEMO_USERS["demo-jail-officer-cook"]))
    assert _desk(client, {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}) == 303
    client.cookies.clear()
    token = bearer(issuer, "jail_officer@cook") | {"Origin": "http://evil.example"}  # a token is never ambient
    again = client.post("/desk", data=BOOKING | {"booking_number": "CSRF-2"}, headers=token, follow_redirects=False)
    assert again.status_code == 303 and custody.list_bookings(10, 0)[0] == 2


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        ("GET", {b"origin": b"http://evil.example"}, None),
        ("POST", {b"host": b"custody.example", b"origin": b"https://custody.example"}, None),
        ("POST", {b"host": b"custody.example", b"origin": b"https://CUSTODY.example"}, None),
        (
            "POST",
            {b"host": b"custody.example", b"origin": b"https://custody.example.evil.example"},
            "https://custody.example.evil.example",
        ),
        ("POST", {b"host": b"custody.example"}, None),  # curl, a server: no origin at all
        ("POST", {b"host": b"custody.example", b"sec-fetch-site": b"none"}, None),  # typed in the address bar
        ("DELETE", {b"host": b"custody.example", b"sec-fetch-site": b"cross-site"}, "cross-site"),
        ("POST", {b"authorization": b"Bearer t", b"origin": b"http://evil.example"}, None),
    ],
)
def test_which_requests_count_as_from_another_origin(
    method: str, headers: dict[bytes, bytes], refused: str | None
) -> None:
    assert cross_origin(method, headers) == refused
