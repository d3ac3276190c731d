"""The access log: every route of the API and the pages that can show personal data is walked, as
a user who may read it and as one who may not, and each call must leave exactly one entry naming
who, what, when, where from and the outcome, with the fields the law withheld from a federal
reader. An answer whose entry cannot be written is not given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from custody.access.roles import DEMO_USERS
from custody.access.tokens import Issuer
from custody.api import access_log
from custody.api.app import create_app
from custody.audit.access import ACTION, CHAIN_PREFIX
from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.sim.demo import load_demo
from custody.store import db
from custody.store.models import AuditEntryRow, BookingRow, FederalRequestRow
from tests.access.support import COOK, bearer
from tests.api.test_api import BOOKING

READERS = ("jail_officer@cook", "federal_officer@il", "administrator", "auditor", "analyst")
SIGNED_IN = DEMO_USERS["demo-administrator"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Custody, Issuer]]:
    folder = Path(tmp_path_factory.mktemp("access"))
    engine = db.make_engine(f"sqlite:///{folder / 'custody.db'}")
    db.upgrade(engine)
    service = Custody(engine, ManualClock(datetime.fromisoformat("2017-08-20T08:00:00-05:00")), actor="test")
    load_demo(service)
    issuer = Issuer.local(folder)
    with TestClient(create_app(service, tick_seconds=None, issuer=issuer)) as client:
        yield client, service, issuer
    engine.dispose()


def _entries(service: Custody, since: set[tuple[str, int]] | None = None) -> list[AuditEntryRow]:
    """The access entries, by chain and sequence; with ``since``, only those not in it."""
    with service.unit() as unit:
        rows = unit.session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.chain.like(f"{CHAIN_PREFIX}%"))
            .order_by(AuditEntryRow.chain, AuditEntryRow.seq)
        )
        return [r for r in rows if since is None or (r.chain, r.seq) not in since]


def _seen(service: Custody) -> set[tuple[str, int]]:
    return {(r.chain, r.seq) for r in _entries(service)}


def _ids(service: Custody) -> dict[str, str]:
    """A real record for each path parameter: a Cook County booking, its request and decision."""
    with service.unit() as unit:
        booking = unit.session.scalars(select(BookingRow).where(BookingRow.agency == COOK)).first()
        assert booking is not None
        request = unit.session.scalars(
            select(FederalRequestRow).where(FederalRequestRow.booking_id == booking.id)
        ).first()
        assert request is not None and request.decision_id
        # No print search has run in the demo: the examiner's identification route is walked with an
        # id it does not know (answered 404 or refused, and logged all the same).
        return {
            "booking_id": booking.id,
            "request_id": request.id,
            "decision_id": request.decision_id,
            "identification_id": "idn_unknown",
        }


def _personal_reads(client: TestClient) -> list[str]:
    """Every GET route whose answer can carry personal data, API and pages alike."""
    app = client.app
    # The app's own routes, and the contract's (routes of an included router, the examiner's, are
    # wrapped where app.routes does not show their paths).
    paths = {r.path for r in app.routes if "GET" in (getattr(r, "methods", None) or set())}  # type: ignore[attr-defined]
    paths |= {path for path, operations in app.openapi()["paths"].items() if "get" in operations}  # type: ignore[attr-defined]
    return sorted(p for p in paths if access_log.carries_personal_data(p, {"decision": "x"}, SIGNED_IN))


def test_every_personal_data_read_is_logged_with_who_what_when_where_and_outcome(
    site: tuple[TestClient, Custody, Issuer],
) -> None:
    client, service, issuer = site
    ids = _ids(service)
    routes = _personal_reads(client)
    assert {"/bookings/{booking_id}", "/desk/{booking_id}", "/federal/bookings/{booking_id}", "/audit"} <= set(routes)
    assert {"/federal/identifications", "/federal/identifications/{identification_id}"} <= set(routes)
    assert len(routes) == 20  # docs/security.md, "Audit" row: the count it gives
    walked: dict[str, set[str]] = {}
    for template in routes:
        path = template.format(**ids)
        query = {"decision": ids["decision_id"]} if template == "/law" else {}
        for user in READERS:
            before = _seen(service)
            answer = client.get(
                path,
                params=query,
                headers={**bearer(issuer, user), "User-Agent": f"walker/{user}"},
                follow_redirects=False,
            )
            assert answer.status_code < 500, f"{path} as {user}: {answer.status_code}"
            new = _entries(service, before)
            assert len(new) == 1, f"GET {path} as {user}: {len(new)} access entries"
            entry = new[0]
            data = entry.data
            assert entry.action == ACTION and entry.actor.startswith(user.split("@")[0] + ":")
            assert data["route"] == template and data["path"] == path and data["method"] == "GET"
            assert data["client"] == "testclient" and data["user_agent"] == f"walker/{user}"
            assert data["status"] == answer.status_code
            expected = "refused" if answer.status_code in (401, 403) else None
            if answer.status_code < 400:
                expected = "withheld" if data["withheld"] else "allowed"
            assert data["outcome"] == (expected or "failed"), (path, user, data)
            if "{" in template:
                assert entry.subject.split(":", 1)[1].split(",")[0] in ids.values()
            walked.setdefault(template, set()).add(data["outcome"])
    assert set(walked) == set(routes)
    assert all("refused" in outcomes for t, outcomes in walked.items() if t != "/"), walked
    assert all(report.ok for report in service.verify_audit())


def test_a_federal_reader_is_logged_with_the_fields_the_law_withheld(site: tuple[TestClient, Custody, Issuer]) -> None:
    client, service, issuer = site
    booking_id = _ids(service)["booking_id"]
    for path in (f"/bookings/{booking_id}", f"/federal/bookings/{booking_id}", "/bookings", "/federal/hits"):
        before = _seen(service)
        answer = client.get(path, headers=bearer(issuer, "federal_officer@il"))
        assert answer.status_code == 200
        (entry,) = _entries(service, before)
        assert entry.chain == f"{CHAIN_PREFIX}federal"
        assert entry.data["outcome"] == "withheld", path
        # Cook County's ordinance withholds the release date and custody status from federal officers.
        assert {"release_date", "custody_status"} <= set(entry.data["withheld"][booking_id]), path


def test_refusals_writes_and_bad_tokens_are_logged_and_public_routes_are_not(
    site: tuple[TestClient, Custody, Issuer],
) -> None:
    client, service, issuer = site
    booking_id = _ids(service)["booking_id"]
    before = _seen(service)
    assert client.get(f"/bookings/{booking_id}").status_code == 401
    assert client.get("/bookings", headers={"Authorization": "Bearer forged"}).status_code == 401
    miami = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "jail_officer@miami-dade"))
    assert miami.status_code == 403
    anonymous, forged, foreign = _entries(service, before)
    assert (anonymous.actor, anonymous.chain, anonymous.data["outcome"]) == ("anonymous", "access:anonymous", "refused")
    assert forged.actor == "invalid-token" and forged.data["outcome"] == "refused"
    assert foreign.chain == "access:ocd-division/country:us/state:fl/county:miami-dade"
    assert foreign.data["outcome"] == "refused" and foreign.data["status"] == 403
    before = _seen(service)
    for public in ("/health", "/law/in-force?division=ocd-division/country:us/state:il&on=2017-08-16", "/stats"):
        client.get(public, headers=bearer(issuer, "analyst"))
    assert not _entries(service, before)
    moved = client.post(
        f"/bookings/{booking_id}/release-schedule",
        json={"planned_at": "2017-08-21T10:00:00-05:00"},
        headers=bearer(issuer, "jail_officer@cook"),
    )
    (write,) = _entries(service, before)
    assert write.data["method"] == "POST" and write.data["status"] == moved.status_code


def test_an_answer_whose_access_cannot_be_logged_is_withheld(
    site: tuple[TestClient, Custody, Issuer], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service, issuer = site
    booking_id = _ids(service)["booking_id"]

    def broken(*_: Any) -> None:
        raise OSError("audit store unavailable")

    monkeypatch.setattr(access_log, "record", broken)
    answer = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "jail_officer@cook"))
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert booking_id not in answer.text and "withheld" in answer.json()["detail"]


def test_a_keyed_post_logs_its_entry_with_the_stored_answer_and_its_replay_again(
    client: TestClient, custody: Custody, issuer: Issuer
) -> None:
    jail = {**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "booking-logged-1"}
    before = _seen(custody)
    first = client.post("/bookings", json=BOOKING, headers=jail)
    (entry,) = _entries(custody, before)
    assert first.status_code == 201 and entry.data["status"] == 201 and entry.data["method"] == "POST"
    assert entry.data["route"] == "/bookings" and entry.actor.startswith("jail_officer:")
    before = _seen(custody)
    replay = client.post("/bookings", json=BOOKING, headers=jail)
    (again,) = _entries(custody, before)
    assert replay.json() == first.json() and again.data["status"] == 201
    assert all(report.ok for report in custody.verify_audit())


def test_a_keyed_post_whose_entry_cannot_be_written_is_withheld_but_its_answer_is_kept(
    client: TestClient, custody: Custody, issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    jail = {**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "booking-unlogged-1"}

    def broken(*_: Any) -> None:
        raise OSError("audit store unavailable")

    monkeypatch.setattr(access_log, "record", broken)
    withheld = client.post("/bookings", json=BOOKING, headers=jail)
    assert withheld.status_code == 500 and "withheld" in withheld.json()["detail"]
    monkeypatch.undo()
    before = _seen(custody)
    retried = client.post("/bookings", json=BOOKING, headers=jail)  # the same key: the stored answer, not a 409
    assert retried.status_code == 201 and retried.json()["booking_number"] == BOOKING["booking_number"]
    assert client.get("/bookings", headers=bearer(issuer, "jail_officer@cook")).json()["total"] == 1
    (entry,) = (e for e in _entries(custody, before) if e.data["method"] == "POST")
    assert entry.data["status"] == 201


def test_a_list_or_page_read_names_every_person_s_record_it_showed(site: tuple[TestClient, Custody, Issuer]) -> None:
    """Found by a review: lists and pages logged `"records": {}`, so "who saw this person?" had no
    answer for them, while `custody bookings` logged every id it printed."""
    client, service, issuer = site
    before = _seen(service)
    listed = client.get("/bookings", headers=bearer(issuer, "administrator"))
    assert listed.status_code == 200
    (entry,) = _entries(service, before)
    shown = [item["id"] for item in listed.json()["items"]]
    assert shown and entry.data["records"]["shown_bookings"] == ",".join(shown)

    before = _seen(service)
    page = client.get("/release", headers=bearer(issuer, "jail_officer@cook"))
    assert page.status_code == 200
    (entry,) = _entries(service, before)
    on_page = entry.data["records"]["shown_bookings"].split(",")
    assert on_page and all(booking_id in page.text for booking_id in on_page)

    before = _seen(service)
    refused = client.get("/bookings", headers=bearer(issuer, "analyst"))
    assert refused.status_code == 403
    (entry,) = _entries(service, before)
    assert entry.data["records"] == {}


def test_demo_sign_ins_allowed_and_refused_are_logged(site: tuple[TestClient, Custody, Issuer]) -> None:
    """Found by a review: /signin shows no personal data, so sign-ins left no entry at all."""
    client, service, _ = site
    before = _seen(service)
    signed = client.post(
        "/signin", data={"user": "demo-administrator"}, headers={"User-Agent": "browser/1"}, follow_redirects=False
    )
    assert signed.status_code == 303
    (entry,) = _entries(service, before)
    assert entry.chain == f"{CHAIN_PREFIX}administrator" and entry.actor == SIGNED_IN.actor
    assert (entry.data["route"], entry.data["outcome"], entry.data["user_agent"]) == ("/signin", "allowed", "browser/1")
    before = _seen(service)
    assert client.post("/signin", data={"user": "demo-nobody"}, follow_redirects=False).status_code == 422
    (entry,) = _entries(service, before)
    assert entry.chain == f"{CHAIN_PREFIX}anonymous" and entry.data["outcome"] == "failed"


def test_the_sign_in_cookie_is_secure_when_the_page_came_over_https(site: tuple[TestClient, Custody, Issuer]) -> None:
    """Found by a review: the cookie never had the Secure flag."""
    client, _, _ = site
    over_https = TestClient(client.app, base_url="https://testserver")
    cookie = over_https.post("/signin", data={"user": "demo-analyst"}, follow_redirects=False).headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    plain = client.post("/signin", data={"user": "demo-analyst"}, follow_redirects=False).headers["set-cookie"]
    assert "Secure" not in plain


def test_a_keyed_post_names_the_record_it_answered_with(site: tuple[TestClient, Custody, Issuer]) -> None:
    """Found by a code review: a POST with an Idempotency-Key writes its entry with the stored answer,
    which named no record, while the same POST without a key did."""
    client, service, issuer = site
    before = _seen(service)
    made = client.post(
        "/bookings",
        json={**BOOKING, "booking_number": "KEYED-1"},
        headers={**bearer(issuer, "jail_officer@cook"), "Idempotency-Key": "keyed-1"},
    )
    assert made.status_code == 201, made.text
    (entry,) = _entries(service, before)
    assert made.json()["id"] in entry.data["records"]["shown_bookings"].split(",")
