"""The authorisation matrix: every role × resource × action, for users of two jurisdictions of
opposite policy (Cook County, which declines detainers, and Miami-Dade, which in 2017 honored
them), each acting on records of both. The expected table below is the issue's requirement written
out independently of ``custody.access.policy``; each cell is checked through the real HTTP route.

The matrix is enumerated from the policy itself: one case per entry of ``PERMISSIONS``, walking
every route that exercises it (``EXERCISES``), so a permission added to the policy without a route
and an expected row here fails its own case instead of going untested.

An allowed call may still be refused by the process (409, 422: the body is chosen to be refused
after the check, so the matrix does not change the records it tests); what matters here is that it
is not 401/403. A refused call is 403, and without credentials every call is 401."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from custody.access.policy import PERMISSIONS, Op, Permission, Resource, Scope
from custody.access.roles import DEMO_USERS, Principal, Role
from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.domain.clock import ManualClock
from custody.identity.commands import IdentityIn
from custody.service import Custody
from custody.store import db
from tests.access.support import COOK, MIAMI_DADE, bearer
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, blank_gallery, booking, prints  # noqa: F401 (fixture)

PLACES = {"cook": COOK, "miami-dade": MIAMI_DADE}
HOME_USER = {
    ("jail_officer", "cook"): "demo-jail-officer-cook",
    ("jail_officer", "miami-dade"): "demo-jail-officer-miami-dade",
    ("jail_supervisor", "cook"): "demo-jail-supervisor-cook",
    ("jail_supervisor", "miami-dade"): "demo-jail-supervisor-miami-dade",
    ("federal_officer", "cook"): "demo-federal-officer-chicago",
    ("federal_officer", "miami-dade"): "demo-federal-officer-miami",
}
LOCAL, AREA, ANY = "own agency", "own area", "anywhere"
J, S, F, G, A, AU, AD = (r.value for r in Role)
# (resource, action) -> role -> where the role may do it. Absent: never.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("booking", "create"): {J: LOCAL, S: LOCAL},
    ("booking", "read"): {J: LOCAL, S: LOCAL, F: AREA, AD: ANY},
    ("booking", "list"): {J: LOCAL, S: LOCAL, F: AREA, AD: ANY},
    ("booking", "move"): {J: LOCAL, S: LOCAL},
    ("booking", "fingerprints"): {J: LOCAL, S: LOCAL},
    ("booking", "submit prints"): {J: LOCAL, S: LOCAL},
    ("release", "queue"): {J: LOCAL, S: LOCAL, AD: ANY},
    ("release", "schedule"): {J: LOCAL, S: LOCAL},
    ("release", "eligibility"): {J: LOCAL, S: LOCAL},
    ("release", "transfer"): {J: LOCAL, S: LOCAL, F: AREA},
    ("request", "issue"): {F: AREA},
    ("request", "read"): {J: LOCAL, S: LOCAL, F: AREA, AD: ANY},
    ("request", "list"): {J: LOCAL, S: LOCAL, F: AREA, AD: ANY},
    ("request", "respond"): {J: LOCAL, S: LOCAL},
    ("request", "serve"): {J: LOCAL, S: LOCAL},
    ("identity", "enrol"): {F: ANY},
    ("hit", "list"): {F: AREA, AD: ANY},
    ("hit", "examiner queue"): {F: AREA, AD: ANY},
    ("hit", "identification"): {F: AREA, AD: ANY},
    ("hit", "confirm"): {F: AREA},
    ("hit", "reject"): {F: AREA},
    ("message", "list"): {F: AREA, AD: ANY},
    ("decision", "read"): {J: LOCAL, S: LOCAL, F: AREA, AU: ANY, AD: ANY},
    ("decision", "decide"): {r: ANY for r in (J, S, F, G, A, AU, AD)},
    ("stats", "read"): {S: ANY, G: ANY, A: ANY, AD: ANY},
    ("audit", "read"): {S: LOCAL, AU: ANY, AD: ANY},
    ("audit", "verify"): {S: LOCAL, AU: ANY, AD: ANY},
    ("timer", "run"): {S: LOCAL, AD: ANY},
    ("request", "cancel"): {F: AREA},  # last: an allowed cancellation withdraws the request
}
# Which permission of the policy each row's route asks for.
EXERCISES: dict[tuple[str, str], Permission] = {
    ("booking", "create"): (Resource.booking, Op.create),
    ("booking", "read"): (Resource.booking, Op.read),
    ("booking", "list"): (Resource.booking, Op.read),
    ("booking", "move"): (Resource.booking, Op.update),
    ("booking", "fingerprints"): (Resource.booking, Op.update),
    ("booking", "submit prints"): (Resource.booking, Op.update),
    ("release", "queue"): (Resource.release, Op.read),
    ("release", "schedule"): (Resource.release, Op.update),
    ("release", "eligibility"): (Resource.release, Op.update),
    ("release", "transfer"): (Resource.release, Op.transfer),
    ("request", "issue"): (Resource.request, Op.create),
    ("request", "read"): (Resource.request, Op.read),
    ("request", "list"): (Resource.request, Op.read),
    ("request", "respond"): (Resource.request, Op.respond),
    ("request", "serve"): (Resource.request, Op.serve),
    ("identity", "enrol"): (Resource.identity, Op.create),
    ("hit", "list"): (Resource.hit, Op.read),
    ("hit", "examiner queue"): (Resource.hit, Op.read),
    ("hit", "identification"): (Resource.hit, Op.read),
    ("hit", "confirm"): (Resource.hit, Op.update),
    ("hit", "reject"): (Resource.hit, Op.update),
    ("message", "list"): (Resource.message, Op.read),
    ("decision", "read"): (Resource.decision, Op.read),
    ("decision", "decide"): (Resource.decision, Op.create),
    ("stats", "read"): (Resource.stats, Op.read),
    ("audit", "read"): (Resource.audit, Op.read),
    ("audit", "verify"): (Resource.audit, Op.verify),
    ("timer", "run"): (Resource.timer, Op.run),
    ("request", "cancel"): (Resource.request, Op.cancel),
}
WHERE = {Scope.agency: LOCAL, Scope.area: AREA, Scope.any: ANY}


@dataclass
class World:
    client: TestClient
    issuer: Issuer
    bookings: dict[str, str]
    requests: dict[str, str]
    decisions: dict[str, str]
    identifications: dict[str, str]  # awaiting the examiner, one per place


def _booking(place: str, number: str) -> dict[str, Any]:
    return {
        "agency": PLACES[place],
        "booking_number": number,
        "booked_at": "2017-08-16T01:00:00-05:00" if place == "cook" else "2017-08-16T01:00:00-04:00",
        "person": {
            "last_name": "Doe",
            "first_name": "Jan",
            "date_of_birth": "1990-01-01",
            "identifiers": {"fbi": "9Z"},
        },
        "charges": [{"offense": "theft", "level": "misdemeanor"}],
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, blank_gallery: Path) -> Iterator[World]:  # noqa: F811 (fixture)
    folder = Path(tmp_path_factory.mktemp("matrix"))
    gallery = folder / "gallery"
    shutil.copytree(blank_gallery, gallery)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CUSTODY_GALLERY", str(gallery))
        env.delenv("CUSTODY_MATCH_THRESHOLD", raising=False)
        env.delenv("CUSTODY_EXAMINER_CONFIRMATION", raising=False)
        yield from _world(folder)


def _world(folder: Path) -> Iterator[World]:
    engine = db.make_engine(f"sqlite:///{folder / 'custody.db'}")
    db.upgrade(engine)
    service = Custody(engine, ManualClock(datetime.fromisoformat("2017-08-16T08:00:00-05:00")), actor="test")
    issuer = Issuer.local(folder)
    with TestClient(create_app(service, tick_seconds=None, issuer=issuer)) as client:
        fed = bearer(issuer, "federal_officer@il")
        client.post("/federal/identities", json={"names": ["DOE, Jan"], "identifiers": {"fbi": "9Z"}}, headers=fed)
        bookings, requests, decisions = {}, {}, {}
        for place, (jail, officer) in {
            "cook": ("jail_officer@cook", "federal_officer@il"),
            "miami-dade": ("jail_officer@miami-dade", "federal_officer@fl"),
        }.items():
            made = client.post("/bookings", json=_booking(place, f"M-{place}"), headers=bearer(issuer, jail))
            assert made.status_code == 201, made.text
            bookings[place] = made.json()["id"]
            issued = client.post(
                "/federal/requests",
                json={
                    "booking_id": bookings[place],
                    "form": "I-247A",
                    "warrant": "I-200",
                    "officer": {"name": "Officer A"},
                    "issued_at": "2017-08-16T06:00:00-05:00",
                },
                headers=bearer(issuer, officer),
            )
            assert issued.status_code == 201, issued.text
            requests[place] = issued.json()["id"]
            decisions[place] = issued.json()["decision_id"]
        yield World(client, issuer, bookings, requests, decisions, _identifications(service))
    engine.dispose()


def _identifications(service: Custody) -> dict[str, str]:
    """A booking in each place whose prints rank a repository identity: each waits for the examiner."""
    service.enrol(IdentityIn(names=["ROE, Jack"], identifiers={"fbi": "8Y"}), prints(FIRST_VISIT))
    for place in PLACES:
        arrest = booking(f"P-{place}", "2017-08-16T02:00:00-05:00", "Roe", "Jack", {})
        service.book(arrest.model_copy(update={"agency": PLACES[place]}), prints(SECOND_VISIT))
    _, waiting = service.identifications(10, 0, "awaiting_examiner")
    return {place: next(i["id"] for i in waiting if i["agency"] == PLACES[place]) for place in PLACES}


Call = Callable[[World, str], tuple[str, str, dict[str, Any]]]
AT = "2017-08-16T07:00:00-05:00"
EARLY = "2000-01-01T00:00:00-05:00"  # before every booking: refused by the process after the check
CALLS: dict[tuple[str, str], Call] = {
    ("booking", "create"): lambda w, p: (
        "POST",
        "/bookings",
        {"json": {**_booking(p, "x"), "booked_at": "2099-01-01T00:00:00Z"}},
    ),
    ("booking", "read"): lambda w, p: ("GET", f"/bookings/{w.bookings[p]}", {}),
    ("booking", "list"): lambda w, p: ("GET", "/bookings", {}),
    ("booking", "move"): lambda w, p: (
        "POST",
        f"/bookings/{w.bookings[p]}/moves",
        {"json": {"to_agency": PLACES[p], "at": AT}},
    ),
    ("booking", "fingerprints"): lambda w, p: (
        "POST",
        f"/bookings/{w.bookings[p]}/fingerprints",
        {"data": {"position": "1"}, "files": {"image": ("empty.png", b"", "image/png")}},
    ),
    # the bookings have no prints: an allowed submission is refused by the process (422)
    ("booking", "submit prints"): lambda w, p: ("POST", f"/bookings/{w.bookings[p]}/fingerprints/submission", {}),
    ("release", "queue"): lambda w, p: ("GET", "/release/queue", {}),
    ("release", "schedule"): lambda w, p: (
        "POST",
        f"/bookings/{w.bookings[p]}/release-schedule",
        {"json": {"planned_at": EARLY}},
    ),
    ("release", "eligibility"): lambda w, p: (
        "POST",
        f"/bookings/{w.bookings[p]}/release-eligibility",
        {"json": {"reason": "bail", "at": EARLY}},
    ),
    ("release", "transfer"): lambda w, p: (
        "POST",
        f"/bookings/{w.bookings[p]}/transfer",
        {"json": {"at": AT, "officer": {"name": "Officer A"}}},
    ),
    ("request", "issue"): lambda w, p: (
        "POST",
        "/federal/requests",
        {
            "json": {
                "booking_id": w.bookings[p],
                "form": "I-247D",
                "warrant": "I-200",
                "officer": {"name": "A"},
                "issued_at": AT,
            }
        },
    ),
    ("request", "read"): lambda w, p: ("GET", f"/federal/requests/{w.requests[p]}", {}),
    ("request", "list"): lambda w, p: ("GET", "/federal/requests", {}),
    ("request", "respond"): lambda w, p: (
        "POST",
        f"/federal/requests/{w.requests[p]}/response",
        {"json": {"at": AT, "answers": {"access": "honor"}}},
    ),
    ("request", "serve"): lambda w, p: ("POST", f"/federal/requests/{w.requests[p]}/service", {"json": {"at": EARLY}}),
    ("request", "cancel"): lambda w, p: (
        "POST",
        f"/federal/requests/{w.requests[p]}/cancellation",
        {"json": {"at": AT, "reason": "matrix"}},
    ),
    ("identity", "enrol"): lambda w, p: (
        "POST",
        "/federal/identities",
        {"json": {"names": ["X, Y"], "identifiers": {}}},
    ),
    ("hit", "list"): lambda w, p: ("GET", "/federal/hits", {}),
    ("hit", "examiner queue"): lambda w, p: ("GET", "/federal/identifications", {}),
    ("hit", "identification"): lambda w, p: ("GET", f"/federal/identifications/{w.identifications[p]}", {}),
    ("hit", "confirm"): lambda w, p: (  # a candidate it does not offer: refused after the check
        "POST",
        f"/federal/identifications/{w.identifications[p]}/confirmation",
        {"json": {"identity_id": "idn_not_a_candidate"}},
    ),
    ("hit", "reject"): lambda w, p: (  # the first allowed call rejects; the next are refused as decided (409)
        "POST",
        f"/federal/identifications/{w.identifications[p]}/rejection",
        {"json": {"reason": "matrix"}},
    ),
    ("message", "list"): lambda w, p: ("GET", "/federal/messages", {}),
    ("decision", "read"): lambda w, p: ("GET", f"/law/decisions/{w.decisions[p]}", {}),
    ("decision", "decide"): lambda w, p: (
        "POST",
        "/law/decide",
        {
            "json": {
                "agency": PLACES[p],
                "on": "2017-08-16",
                "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
                "person": {"convictions": [], "pending_charges": []},
            }
        },
    ),
    ("stats", "read"): lambda w, p: ("GET", "/stats/outcomes", {"params": {"agency": PLACES[p]}}),
    ("audit", "read"): lambda w, p: ("GET", "/audit/entries", {"params": {"chain": PLACES[p]}}),
    ("audit", "verify"): lambda w, p: ("GET", "/audit/verify", {}),
    ("timer", "run"): lambda w, p: ("POST", "/timers/tick", {}),
}
LISTS = {
    ("booking", "list"),
    ("release", "queue"),
    ("request", "list"),
    ("hit", "list"),
    ("hit", "examiner queue"),
    ("message", "list"),
}
LISTS_BY_CHAIN = {("audit", "read"), ("audit", "verify")}
# Runs on the caller's own jurisdiction whatever the target: allowed or not, never on another's.
OWN_ONLY = {("timer", "run")}


def _principal(role: str, home: str) -> Principal:
    subject = HOME_USER.get((role, home))
    if subject:
        return DEMO_USERS[subject]
    return next(p for p in DEMO_USERS.values() if p.role == role)


def _expected(role: str, home: str, target: str, permission: tuple[str, str]) -> bool:
    where = EXPECTED[permission].get(role)
    return where == ANY or (where in (LOCAL, AREA) and home == target)


def _mentions(body: Any, world: World, place: str) -> bool:
    text = str(body)
    return any(ident in text for ident in (world.bookings[place], world.requests[place], PLACES[place]))


def test_the_expected_table_covers_the_policy_and_agrees_with_it() -> None:
    assert set(CALLS) == set(EXPECTED) == set(EXERCISES), "every row has a route and names its permission"
    assert set(EXERCISES.values()) == set(PERMISSIONS), "every permission of the policy is exercised"
    for row, permission in EXERCISES.items():
        in_policy = {role.value: WHERE[scope] for role, scope in PERMISSIONS[permission].items()}
        assert EXPECTED[row] == in_policy, row


# One case per permission of the policy, whatever the policy holds; a cancellation goes last, as
# an allowed one withdraws the request the other rows act on.
POLICY = sorted(PERMISSIONS, key=lambda permission: permission == (Resource.request, Op.cancel))


@pytest.mark.parametrize("permission", POLICY, ids=lambda p: ".".join(p))
def test_every_role_in_both_jurisdictions_on_records_of_both(world: World, permission: Permission) -> None:
    rows = [row for row, exercised in EXERCISES.items() if exercised == permission]
    assert rows, f"no route exercises {permission}: add a row to EXPECTED, CALLS and EXERCISES"
    failures = [failure for row in rows for failure in _walk(world, row)]
    assert not failures, "\n".join(failures)


def _walk(world: World, permission: tuple[str, str]) -> list[str]:
    """Every role of both places on records of both places through the row's route, then anonymously."""
    failures = []
    for role in (r.value for r in Role):
        for home in PLACES:
            who = _principal(role, home)
            for target in PLACES:
                method, path, kwargs = CALLS[permission](world, target)
                response = world.client.request(method, path, headers=bearer(world.issuer, who), **kwargs)
                allowed = _expected(role, home, target, permission)
                if permission in OWN_ONLY:
                    may_run = any(_expected(role, home, t, permission) for t in PLACES)
                    if (response.status_code == 200) != may_run or response.status_code not in (200, 403):
                        failures.append(f"{role}@{home} {method} {path}: {response.status_code}")
                    continue
                if permission in LISTS or permission in LISTS_BY_CHAIN:
                    # A list answers 200 to whoever may list, with only their jurisdiction's records.
                    may_list = any(_expected(role, home, t, permission) for t in PLACES)
                    got = response.status_code
                    if may_list and got != 200:
                        failures.append(f"{role}@{home} {method} {path}: {got}, expected 200")
                    elif not may_list and got != 403:
                        failures.append(f"{role}@{home} {method} {path}: {got}, expected 403")
                    elif may_list and _mentions(response.json(), world, target) != allowed:
                        failures.append(f"{role}@{home} {path}: records of {target} shown={not allowed}")
                    continue
                if allowed and response.status_code in (401, 403):
                    failures.append(
                        f"{role}@{home} {method} {path} on {target}: {response.status_code} {response.text}"
                    )
                if not allowed and response.status_code != 403:
                    failures.append(f"{role}@{home} {method} {path} on {target}: {response.status_code}, expected 403")
                if response.status_code == 403:
                    assert response.headers["content-type"] == "application/problem+json"
                    assert "sign in" in response.json()["detail"] or "needs one of" in response.json()["detail"]
            anonymous = world.client.request(*CALLS[permission](world, home)[:2], **CALLS[permission](world, home)[2])
            if anonymous.status_code != 401 or not anonymous.headers.get("www-authenticate", "").startswith("Bearer"):
                failures.append(f"anonymous {permission}: {anonymous.status_code}, expected 401 with WWW-Authenticate")
    return failures


def test_a_forged_or_foreign_token_is_401(world: World, tmp_path: Path) -> None:
    stranger = Issuer.local(tmp_path)
    forged = world.client.get("/bookings", headers=bearer(stranger, "administrator"))
    assert forged.status_code == 401 and 'error="invalid_token"' in forged.headers["www-authenticate"]
    assert "sign in again" in forged.json()["detail"]
    assert "its signature does not match this issuer's key" in forged.json()["detail"]
    garbage = world.client.get("/bookings", headers={"Authorization": "Bearer not-a-jwt"})
    assert garbage.status_code == 401 and "it cannot be read as a signed JWT" in garbage.json()["detail"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_an_expired_tampered_or_unsigned_token_is_401(world: World) -> None:
    expired = world.issuer.mint(DEMO_USERS["demo-administrator"], ttl_seconds=-60)
    answer = world.client.get("/bookings", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    # An analyst's valid token with its role claim raised to administrator, signature kept.
    header, payload, signature = world.issuer.mint(DEMO_USERS["demo-analyst"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raised = {**claims, "custody_role": "administrator"}
    tampered = f"{header}.{_b64(json.dumps(raised).encode())}.{signature}"
    none = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{none}.{_b64(json.dumps(raised).encode())}."
    for token, why in ((tampered, "its signature does not match"), (unsigned, "an algorithm custody does not accept")):
        refused = world.client.get("/bookings", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert why in refused.json()["detail"], refused.json()["detail"]
    assert world.client.get("/bookings", headers=bearer(world.issuer, "analyst")).status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"custody_role": "federal_officer", "custody_area": "ocd-division/country:us/state:il"},
        {"custody_role": "jail_officer", "custody_agency": ["ocd-division/country:us/state:il/county:cook"]},
        {"custody_role": "jail_officer", "custody_agency": "not a division"},
    ],
)
def test_a_signed_token_whose_custody_claims_have_the_wrong_shape_is_401(world: World, claims: dict[str, Any]) -> None:
    """Found by a review: an area given as one string, not a list, was answered 422 (as if the
    request were at fault) instead of 401 for the token."""
    payload = world.issuer.mint(DEMO_USERS["demo-analyst"]).split(".")[1]
    standard = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    token = jwt.encode(
        {**standard, **claims},
        world.issuer._key,  # signed by the issuer itself: only the claims are wrong
        algorithm="RS256",
        headers={"kid": world.issuer.kid},
    )
    refused = world.client.get("/bookings", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "claim" in refused.json()["detail"], refused.json()["detail"]
