"""A fault custody did not foresee, or a store it cannot reach, is still answered as a problem that
says what to do next, and never shows the caller a trace or the store's internals."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.service import Custody

SECRET_SQL = "SELECT person FROM bookings WHERE id = 'bkg_secret'"


@pytest.fixture
def faulty(custody: Custody, issuer: Issuer) -> Iterator[TestClient]:
    app = create_app(custody, tick_seconds=None, issuer=issuer)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"internal detail: {SECRET_SQL}")

    @app.get("/store-down")
    def store_down() -> None:
        raise OperationalError(SECRET_SQL, {}, ConnectionRefusedError("connection refused"))

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_fault_is_a_problem_without_the_trace(
    faulty: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="custody.api"):
        answer = faulty.get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["title"] == "Internal error" and "RuntimeError" in body["detail"] and "Retry" in body["detail"]
    assert "bkg_secret" not in answer.text
    assert "bkg_secret" in caplog.text  # the server's log has what the caller does not


def test_an_unexpected_fault_on_a_page_is_a_page(faulty: TestClient) -> None:
    answer = faulty.get("/boom", headers={"Accept": "text/html"})
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    assert "fault of its own" in answer.text and "bkg_secret" not in answer.text


def test_a_store_that_cannot_be_reached_is_a_503_to_retry(faulty: TestClient) -> None:
    answer = faulty.get("/store-down")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["title"] == "Store unavailable" and "Try again shortly" in answer.json()["detail"]
    assert "bkg_secret" not in answer.text


def test_an_oversized_body_is_refused_before_it_is_read(custody: Custody, issuer: Issuer) -> None:
    from tests.access.support import bearer

    with TestClient(create_app(custody, tick_seconds=None, issuer=issuer)) as client:
        jail = bearer(issuer, "jail_officer@cook")
        huge = b'{"aliases": "' + b"x" * (1 << 20) + b'"}'
        answer = client.post("/bookings", content=huge, headers={**jail, "content-type": "application/json"})
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
        assert "at most 1,048,576" in answer.json()["detail"]
        assert client.get("/bookings", headers=jail).json()["total"] == 0
        # a file upload of the same size is under its own, larger limit, and reaches the route
        upload = client.post(
            "/bookings/bkg_none/fingerprints", files={"image": ("p.png", huge)}, data={"position": "2"}, headers=jail
        )
        assert upload.status_code == 404


def test_a_refused_page_still_shows_who_is_signed_in_and_where_they_can_go(faulty: TestClient, issuer: Issuer) -> None:
    """Found by an audit: a jail officer refused the federal view saw a signed-out header and no views."""
    from custody.access.roles import DEMO_USERS
    from custody.api.auth import COOKIE

    officer = DEMO_USERS["demo-jail-officer-cook"]
    faulty.cookies.set(COOKIE, issuer.mint(officer))
    refused = faulty.get("/federal", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    header = refused.text.split("</header>")[0]
    assert officer.name in header and "Sign out" in header and 'href="/desk"' in header
    assert 'href="/federal"' not in header  # only the views open to them
    faulty.cookies.set(COOKIE, issuer.mint(DEMO_USERS["demo-analyst"]))
    assert "an analyst may not book an arrest" in faulty.get("/desk", headers={"Accept": "text/html"}).text
    faulty.cookies.clear()
    signed_out = faulty.get("/federal", headers={"Accept": "text/html"})
    assert signed_out.status_code == 401 and ">Sign in</a>" in signed_out.text.split("</header>")[0]
