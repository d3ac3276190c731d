"""Signing out revokes the token, not only the cookie (access/revocations.py).

Found by a review: /signout deleted the browser's cookie and nothing else, so the token, copied
from the browser or a proxy's log, stayed good for the rest of its eight hours."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from custody.access.roles import DEMO_USERS
from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.audit.access import CHAIN_PREFIX
from custody.service import Custody
from custody.store.models import AuditEntryRow, RevokedTokenRow
from tests.access.support import bearer, client, issuer  # noqa: F401 (fixtures)


def test_a_signed_out_cookie_is_refused_though_it_has_not_expired(client: TestClient) -> None:  # noqa: F811
    signed = client.post("/signin", data={"user": "demo-analyst"}, follow_redirects=False)
    token = signed.cookies["custody_token"]
    assert client.get("/stats/outcomes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    out = client.post("/signout", follow_redirects=False)
    assert out.status_code == 303 and "custody_token" not in client.cookies
    again = client.get("/stats/outcomes", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    assert "was signed out at" in again.json()["detail"]
    client.cookies.set("custody_token", token)  # the cookie kept by hand: refused all the same
    assert client.get("/stats/outcomes").status_code == 401
    # ... as a browser gone back to signed out, whose sign-in page still opens (found by a review)
    assert client.get("/signin").status_code == 200 and client.get("/").status_code == 200


def test_signing_out_with_a_bearer_token_revokes_that_token_alone(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    mine, other = bearer(issuer, "analyst"), bearer(issuer, "analyst")
    assert client.post("/signout", headers=mine, follow_redirects=False).status_code == 303
    assert client.get("/stats/outcomes", headers=mine).status_code == 401
    assert client.get("/stats/outcomes", headers=other).status_code == 200
    with custody.unit() as unit:
        (revoked,) = unit.session.scalars(select(RevokedTokenRow)).all()
        assert revoked.subject == DEMO_USERS["demo-analyst"].subject and revoked.expires_at > revoked.revoked_at
        (entry,) = unit.session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.chain == f"{CHAIN_PREFIX}analyst")
        ).all()[-1:]
        assert (entry.data["route"], entry.data["credentials"]) == ("/signout", "sign-out")
    assert client.post("/signout", headers=mine, follow_redirects=False).status_code == 303  # again: no error
    with custody.unit() as unit:
        assert len(unit.session.scalars(select(RevokedTokenRow)).all()) == 1
        (entry,) = unit.session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.chain == f"{CHAIN_PREFIX}analyst")
        ).all()[-1:]
        assert entry.data["credentials"] == "sign-out (already signed out)"


def test_signing_out_with_a_token_no_longer_good_still_forgets_the_cookie(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
) -> None:
    client.cookies.set("custody_token", issuer.mint(DEMO_USERS["demo-analyst"], ttl_seconds=-60))
    out = client.post("/signout", follow_redirects=False)
    assert out.status_code == 303 and 'custody_token=""' in out.headers["set-cookie"]


def test_a_token_signed_out_through_another_server_process_is_refused_within_the_refresh(
    custody: Custody,
    issuer: Issuer,  # noqa: F811
) -> None:
    """Each server process checks tokens against the ids it knows (a request's check is a set
    lookup, not a round trip); a sign-out through another process reaches it at its next reading of
    the table."""
    mine = bearer(issuer, "analyst")
    with (
        TestClient(create_app(custody, tick_seconds=None, issuer=issuer)) as here,
        TestClient(create_app(custody, tick_seconds=None, issuer=issuer, revocations_seconds=0.05)) as there,
    ):
        assert there.get("/stats/outcomes", headers=mine).status_code == 200
        assert here.post("/signout", headers=mine, follow_redirects=False).status_code == 303
        deadline = time.monotonic() + 5
        while there.get("/stats/outcomes", headers=mine).status_code != 401:
            assert time.monotonic() < deadline, "the other process never learnt of the sign-out"
            time.sleep(0.05)
