"""Shared by the API, access and web tests: one development issuer per session and the demo
users' tokens, so tests sign in as a real client would (a bearer JWT checked by the server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custody.access.roles import DEMO_USERS, Principal
from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.service import Custody

COOK = "ocd-division/country:us/state:il/county:cook"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"
USERS = {
    "jail_officer@cook": "demo-jail-officer-cook",
    "jail_supervisor@cook": "demo-jail-supervisor-cook",
    "jail_officer@miami-dade": "demo-jail-officer-miami-dade",
    "jail_supervisor@miami-dade": "demo-jail-supervisor-miami-dade",
    "federal_officer@il": "demo-federal-officer-chicago",
    "federal_officer@fl": "demo-federal-officer-miami",
    "grant_administrator": "demo-grant-administrator",
    "analyst": "demo-analyst",
    "auditor": "demo-auditor",
    "administrator": "demo-administrator",
}


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    return Issuer.local(Path(tmp_path_factory.mktemp("issuer")))


def bearer(issuer: Issuer, user: str | Principal) -> dict[str, str]:
    principal = user if isinstance(user, Principal) else DEMO_USERS[USERS.get(user, user)]
    return {"Authorization": f"Bearer {issuer.mint(principal)}"}


@pytest.fixture
def client(custody: Custody, issuer: Issuer) -> Iterator[TestClient]:
    with TestClient(create_app(custody, tick_seconds=None, issuer=issuer)) as client:
        yield client
