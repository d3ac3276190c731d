"""The examiner's routes (api/examiner.py): the queue of a federal officer's area, confirmation
and rejection, refused to those who may not decide."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.identity.commands import IdentityIn
from custody.service import Custody
from tests.access.support import bearer, issuer  # noqa: F401 (fixture)
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, booking, prints


@pytest.fixture
def waiting(custody: Custody, gallery: Path) -> tuple[str, str]:
    """(identification id, identity id) of a Cook County booking awaiting the examiner."""
    identity_id = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints(FIRST_VISIT))
    custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    _, (item,) = custody.identifications(10, 0)
    return item["id"], identity_id


@pytest.fixture
def client(custody: Custody, issuer: Issuer) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(create_app(custody, tick_seconds=None, issuer=issuer)) as client:
        yield client


def test_the_examiner_of_the_area_sees_the_queue_and_confirms(
    client: TestClient,
    issuer: Issuer,  # noqa: F811 (fixture)
    waiting: tuple[str, str],
) -> None:
    identification_id, identity_id = waiting
    chicago = bearer(issuer, "federal_officer@il")
    queue = client.get("/federal/identifications", params={"state": "awaiting_examiner"}, headers=chicago)
    assert queue.status_code == 200, queue.text
    assert [i["id"] for i in queue.json()["items"]] == [identification_id]
    miami = client.get("/federal/identifications", headers=bearer(issuer, "federal_officer@fl"))
    assert miami.json()["total"] == 0  # outside the Miami field office's area

    done = client.post(
        f"/federal/identifications/{identification_id}/confirmation",
        json={},
        headers={**chicago, "Idempotency-Key": "confirm-1"},
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "confirmed" and body["identity_id"] == identity_id and body["examiner"]
    again = client.post(
        f"/federal/identifications/{identification_id}/confirmation",
        json={},
        headers={**chicago, "Idempotency-Key": "confirm-1"},
    )
    assert again.json() == body  # the same key gives the stored answer, not a second decision
    hits = client.get("/federal/hits", headers=chicago).json()["items"]
    assert [h["identity_id"] for h in hits] == [identity_id]


def test_a_rejection_needs_a_reason_and_is_refused_to_others(
    client: TestClient,
    issuer: Issuer,  # noqa: F811 (fixture)
    waiting: tuple[str, str],
) -> None:
    identification_id, _ = waiting
    url = f"/federal/identifications/{identification_id}/rejection"
    assert client.post(url, json={"reason": "no"}).status_code == 401
    assert client.post(url, json={"reason": "no"}, headers=bearer(issuer, "jail_officer@cook")).status_code == 403
    assert client.post(url, json={"reason": "no"}, headers=bearer(issuer, "federal_officer@fl")).status_code == 403
    chicago = bearer(issuer, "federal_officer@il")
    assert client.post(url, json={}, headers=chicago).status_code == 422
    done = client.post(url, json={"reason": "ridge count differs"}, headers=chicago)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "rejected"
    twice = client.post(url, json={"reason": "again"}, headers=chicago)
    assert twice.status_code == 409 and "cannot happen now" in twice.json()["detail"]
    assert client.get("/federal/identifications/idf_missing", headers=chicago).status_code == 404
