"""The HTTP API: the process over HTTP, RFC 9457 problems, idempotent POSTs, the OpenAPI contract."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custody.access.tokens import Issuer
from custody.exchange import worker
from custody.service import Custody
from tests.access.support import bearer
from tests.exchange.support import record_takes
from tests.identity.fingerprints import prints


def issuer_of(client: TestClient) -> Issuer:
    issuer: Issuer = client.app.state.issuer  # type: ignore[attr-defined]
    return issuer


COOK = "ocd-division/country:us/state:il/county:cook"
BOOKING = {
    "agency": COOK,
    "booking_number": "CCJ-1",
    "booked_at": "2017-08-16T01:00:00-05:00",
    "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01", "identifiers": {"fbi": "1A"}},
    "charges": [{"offense": "theft", "level": "misdemeanor"}],
    "convictions": [{"offense": "burglary", "level": "felony", "date": "2010-01-01"}],
}


@pytest.fixture
def jail(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer, "jail_officer@cook")


@pytest.fixture
def fed(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer, "federal_officer@il")


def _request(booking_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "form": "I-247A",
        "warrant": "I-200",
        "officer": {"name": "Officer A"},
        "issued_at": "2017-08-16T06:00:00-05:00",
        **extra,
    }


def test_landing_page_is_html_and_links_the_api(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text and "<h1>custody</h1>" in response.text
    assert 'action="/signin"' in response.text and "Sign in to the demo" in response.text


def test_openapi_covers_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/bookings",
        "/federal/requests",
        "/federal/requests/{request_id}/response",
        "/bookings/{booking_id}/release-eligibility",
        "/law/decide",
        "/audit/verify",
    ):
        assert path in spec["paths"], path


def test_the_process_over_http(client: TestClient, jail: dict[str, str], fed: dict[str, str]) -> None:
    booking = client.post("/bookings", json=BOOKING, headers=jail)
    assert booking.status_code == 201, booking.text
    booking_id = booking.json()["id"]
    request = client.post("/federal/requests", json=_request(booking_id), headers=fed)
    assert request.status_code == 201, request.text
    body = request.json()
    assert body["decision"]["actions"]["hold"]["status"] == "prohibited"
    assert body["decision"]["actions"]["hold"]["citations"][0] == "Cook County Code § 46-37(a)"
    refused = client.post(
        f"/federal/requests/{body['id']}/response",
        json={"at": "2017-08-16T08:00:00-05:00", "answers": {"hold": "honor"}},
        headers=jail,
    )
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert "cannot be honored" in refused.json()["detail"]
    answered = client.post(
        f"/federal/requests/{body['id']}/response",
        json={"at": "2017-08-16T08:00:00-05:00", "answers": {"transfer": "decline"}},
        headers=jail,
    )
    assert answered.status_code == 200, answered.text
    released = client.post(
        f"/bookings/{booking_id}/release-eligibility",
        json={"reason": "bail", "at": "2017-08-16T08:00:00-05:00"},
        headers=jail,
    )
    assert released.json()["state"] == "released"
    listing = client.get("/federal/requests", params={"limit": 1}, headers=fed).json()
    assert listing["total"] == 1 and listing["limit"] == 1 and len(listing["items"]) == 1
    supervisor = bearer(issuer_of(client), "jail_supervisor@cook")
    verified = client.get("/audit/verify", headers=supervisor).json()
    assert verified["ok"] is True and {c["chain"] for c in verified["chains"]} == {COOK}
    actors = {e["actor"] for e in client.get("/audit/entries", headers=supervisor).json()["items"]}
    assert "jail_officer:demo-jail-officer-cook" in actors


@pytest.mark.parametrize(
    ("path", "payload", "status", "detail"),
    [
        ("/bookings", {**BOOKING, "agency": "ocd-division/country:us/state:zz/county:x"}, 422, "unknown state"),
        ("/bookings", {**BOOKING, "booked_at": "2017-02-30T01:00:00-05:00"}, 422, "booked_at"),
        ("/bookings", {**BOOKING, "booked_at": "2017-08-16T01:00:00"}, 422, "no time zone"),
        (
            "/bookings",
            {**BOOKING, "person": {**BOOKING["person"], "date_of_birth": "2030-01-01"}},
            422,
            "date_of_birth",
        ),
        ("/bookings", {**BOOKING, "charges": []}, 422, "charges"),
        ("/federal/requests", _request("bkg_missing"), 404, "no booking"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(
    client: TestClient,
    jail: dict[str, str],
    fed: dict[str, str],
    path: str,
    payload: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    response = client.post(path, json=payload, headers=fed if path.startswith("/federal") else jail)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and detail in problem["detail"] and problem["title"]
    assert client.get("/bookings", headers=jail).json()["total"] == 0


def test_malformed_json_is_a_problem(client: TestClient, jail: dict[str, str]) -> None:
    response = client.post("/bookings", content=b'{"agency": ', headers={**jail, "content-type": "application/json"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the body is not valid JSON (at character 11); send a JSON object"
    as_text = client.post("/bookings", content=b"agency=x", headers={**jail, "content-type": "text/plain"})
    assert as_text.status_code == 422
    assert as_text.json()["detail"] == "the body must be a JSON object, sent with Content-Type: application/json"


def test_a_request_state_that_is_not_one_is_refused_with_the_states(client: TestClient, fed: dict[str, str]) -> None:
    response = client.get("/federal/requests", params={"state": "bogus"}, headers=fed)
    assert response.status_code == 422 and "state:" in response.json()["detail"]
    assert "'decided'" in response.json()["detail"]
    assert client.get("/federal/requests", params={"state": "decided"}, headers=fed).status_code == 200


def test_a_form_outside_its_period_is_refused_and_the_request_not_stored(
    client: TestClient, jail: dict[str, str], fed: dict[str, str]
) -> None:
    booking_id = client.post("/bookings", json=BOOKING, headers=jail).json()["id"]
    response = client.post("/federal/requests", json=_request(booking_id, form="I-247D"), headers=fed)
    assert response.status_code == 422
    assert "I-247D was not in use on 2017-08-16" in response.json()["detail"]
    no_warrant = client.post("/federal/requests", json=_request(booking_id, warrant="none"), headers=fed)
    assert no_warrant.status_code == 422 and "I-200 or I-205" in no_warrant.json()["detail"]
    assert client.get("/federal/requests", headers=fed).json()["total"] == 0


def test_a_duplicate_submission_is_a_conflict(client: TestClient, jail: dict[str, str]) -> None:
    assert client.post("/bookings", json=BOOKING, headers=jail).status_code == 201
    again = client.post("/bookings", json=BOOKING, headers=jail)
    assert again.status_code == 409 and "already booking" in again.json()["detail"]
    assert client.get("/bookings", headers=jail).json()["total"] == 1


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(
    client: TestClient, jail: dict[str, str]
) -> None:
    headers = {**jail, "Idempotency-Key": "booking-ccj-1"}
    first = client.post("/bookings", json=BOOKING, headers=headers)
    replay = client.post("/bookings", json=BOOKING, headers=headers)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    other = client.post("/bookings", json={**BOOKING, "booking_number": "CCJ-2"}, headers=headers)
    assert other.status_code == 409 and "different body" in other.json()["detail"]
    assert client.get("/bookings", headers=jail).json()["total"] == 1


def test_law_decide_over_http_answers_the_contract(client: TestClient, jail: dict[str, str]) -> None:
    doc = {
        "agency": COOK,
        "on": "2017-08-16",
        "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
    }
    assert client.post("/law/decide", json=doc, headers=jail).json()["actions"]["hold"]["status"] == "prohibited"
    bad = client.post("/law/decide", json={**doc, "on": "2017-13-01"}, headers=jail)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_the_law_browser_shows_the_law_and_runs_a_decision_with_its_trace(
    client: TestClient, jail: dict[str, str]
) -> None:
    page = client.get("/law", params={"division": COOK, "on": "2017-08-16"})
    assert page.status_code == 200 and "Cook County Code § 46-37(a)" in page.text
    assert '<label for="division">' in page.text
    decided = client.post(
        "/law",
        data={
            "division": COOK,
            "on": "2017-08-16",
            "form": "I-247A",
            "warrant": "administrative",
            "actions": ["hold", "notify"],
        },
        headers=jail,
    )
    assert decided.status_code == 200 and "<h3>Trace</h3>" in decided.text
    assert "us-il-cook-46-37-a" in decided.text and "prohibited" in decided.text
    # a reload sends the form's key again: the same decision, logged once (found by a review)
    form = {"division": COOK, "on": "2017-08-16", "form": "I-247A", "warrant": "administrative"}
    keyed = {**form, "actions": ["hold"], "idempotency_key": "law-form-1"}
    first = client.post("/law", data=keyed, headers=jail)
    again = client.post("/law", data=keyed, headers=jail)
    shown = [re.search(r"Decision <code>(dec_\w+)</code>", page.text) for page in (first, again)]
    assert shown[0] and shown[1] and shown[0].group(1) == shown[1].group(1)
    other = client.post("/law", data={**keyed, "idempotency_key": "law-form-2"}, headers=jail)
    assert shown[0].group(1) not in other.text


def test_law_known_but_not_encoded_is_shown_on_the_page_and_in_json(client: TestClient) -> None:
    new_york = "ocd-division/country:us/state:ny/place:new_york"
    page = client.get("/law", params={"division": new_york, "on": "2013-06-01"})
    assert page.status_code == 200 and "In force but not encoded" in page.text
    assert "Local Law 62 of 2011" in page.text
    shown = client.get("/law/in-force", params={"division": new_york, "on": "2013-06-01"}).json()
    assert {g["citation"].split(" (")[0] for g in shown["not_encoded"]} == {
        "N.Y.C. Local Law 62 of 2011 and Local Law 22 of 2013",
        "N.Y.C. Local Law 21 of 2013",
    }
    later = client.get("/law/in-force", params={"division": new_york, "on": "2015-06-01"}).json()
    assert [(g["citation"], g["actions"]) for g in later["not_encoded"]] == [  # the 2014 laws' transfer
        ("N.Y.C. Admin. Code §§ 9-131 and 14-154 (Local Laws 58 and 59 of 2014), transfer of custody", ["transfer"])
    ]


def test_law_endpoints_answer_in_json(client: TestClient) -> None:
    shown = client.get("/law/in-force", params={"division": COOK, "on": "2017-08-16"}).json()
    assert {"us-8-cfr-287-7", "us-il-cook-ord-11-O-73"} <= {i["id"] for i in shown["instruments"]}
    changes = client.get("/law/diff", params={"division": COOK, "from": "2011-01-01", "to": "2018-01-01"}).json()
    ids = [c["id"] for c in changes["changes"]]
    assert ids.index("us-il-cook-ord-11-O-73") < ids.index("us-il-trust-act-2017")
    grants = client.get("/grants/check", params={"division": COOK}).json()
    assert {c["id"]: c["conflict"] for c in grants["conditions"]}["notice"] == "conflicts"
    bad = client.get("/law/in-force", params={"division": "cook", "on": "2017-08-16"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_a_post_answers_after_what_it_caused_claiming_only_the_queues_with_work(
    client: TestClient, jail: dict[str, str], fed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = record_takes(monkeypatch)
    booking = client.post("/bookings", json={**BOOKING, "booking_number": "CCJ-DRAIN"}, headers=jail)
    assert booking.status_code == 201, booking.text
    assert claims == [("federal", 1), (f"local:{COOK}", 1)]  # the identification, then its answer
    timeline = client.get(f"/bookings/{booking.json()['id']}", headers=jail).json()["timeline"]
    assert "IdentificationReceived" in {event["type"] for event in timeline}
    claims.clear()
    request = client.post("/federal/requests", json=_request(booking.json()["id"]), headers=fed)
    assert request.status_code == 201, request.text
    assert claims == [(f"local:{COOK}", 1)]  # the request reaches the jail; nothing else is polled


@pytest.mark.usefixtures("gallery")
def test_prints_stored_after_booking_are_submitted_again_on_request(
    client: TestClient, custody: Custody, jail: dict[str, str]
) -> None:
    booking_id = client.post("/bookings", json={**BOOKING, "booking_number": "CCJ-P"}, headers=jail).json()["id"]
    path = f"/bookings/{booking_id}/fingerprints"
    nothing = client.post(f"{path}/submission", headers=jail)
    assert nothing.status_code == 422 and nothing.headers["content-type"] == "application/problem+json"
    assert "no fingerprint image to submit" in nothing.json()["detail"]
    (image,) = prints({1: "p1_1"})
    stored = client.post(path, data={"position": "1"}, files={"image": ("p1_1.png", image.data)}, headers=jail)
    assert stored.status_code == 201, stored.text
    submitted = client.post(f"{path}/submission", headers={**jail, "Idempotency-Key": "resubmit-1"})
    assert submitted.status_code == 202 and submitted.json() == {"booking_id": booking_id, "prints": 1}
    # the booking page's button does the same
    page = client.post(f"/desk/{booking_id}/prints/submission", headers=jail, follow_redirects=False)
    assert page.status_code == 303 and "submitted+1+print" in page.headers["location"]
    worker.drain(custody, worker.EVERY_PARTY)
    timeline = custody.booking_view(booking_id)["timeline"]
    sent = [e for e in timeline if e["type"] == "FingerprintsSubmitted"]
    assert [len(e["data"]["prints"]) for e in sent] == [0, 1, 1]
    assert [e["data"].get("resubmission", False) for e in sent] == [False, True, True]
    # searched each time (an empty gallery finds no one), answered by identifiers each time
    assert sum(e["type"] == "IdentificationReceived" for e in timeline) == 3


@pytest.mark.usefixtures("gallery")
def test_a_print_sent_again_with_its_key_is_stored_once(
    client: TestClient, custody: Custody, jail: dict[str, str]
) -> None:
    """Found by a review: the same upload sent twice with one Idempotency-Key was stored twice."""
    booking_id = client.post("/bookings", json={**BOOKING, "booking_number": "CCJ-KEY"}, headers=jail).json()["id"]
    path, (image,), (other,) = f"/bookings/{booking_id}/fingerprints", prints({1: "p1_1"}), prints({1: "p1_2"})
    keyed = {**jail, "Idempotency-Key": "upload-1"}
    first, again = (
        client.post(path, data={"position": "1"}, files={"image": ("p1_1.png", image.data)}, headers=keyed)
        for _ in range(2)
    )
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    changed = client.post(path, data={"position": "1"}, files={"image": ("p1_1.png", other.data)}, headers=keyed)
    assert changed.status_code == 409, changed.text  # the key again with another image
    stored = [e for e in custody.booking_view(booking_id)["timeline"] if e["type"] == "FingerprintStored"]
    assert len(stored) == 1


@pytest.mark.parametrize("path", ["/grants/check", "/law/in-force"])
def test_a_date_in_a_query_is_a_calendar_day_not_a_number(client: TestClient, path: str) -> None:
    """``?on=0`` is not 1 January 1970 (pydantic reads a number as seconds since then)."""
    cook = "ocd-division/country:us/state:il/county:cook"
    refused = client.get(path, params={"division": cook, "on": "0"})
    assert refused.status_code == 422 and "'0' is not a date; write YYYY-MM-DD" in refused.json()["detail"]
    assert client.get(path, params={"division": cook, "on": "2017-08-16"}).status_code == 200
