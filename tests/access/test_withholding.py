"""What federal users see of a booking follows the holding agency's law, both ways: Cook County
(2017) forbids telling the federal side a release date, so release date and custody status are
withheld, naming Cook County Code § 46-37(b); Miami-Dade under the Mayor's directive of 26 Jan
2017 requires it, so they are shared, naming the directive; California's SB 54 (2018) forbids
sharing an address, which Cook's law does not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from custody.access.roles import Principal, Role
from custody.access.tokens import Issuer
from custody.domain.clock import ManualClock
from custody.service import Custody
from tests.access.support import COOK, MIAMI_DADE, bearer

LOS_ANGELES = "ocd-division/country:us/state:ca/county:los_angeles"
CA_OFFICER = Principal("fed-la", "ERO Los Angeles", Role.federal_officer, area=("ocd-division/country:us/state:ca",))


def _book(client: TestClient, issuer: Issuer, agency: str, booked_at: str) -> str:
    jail = Principal(f"jail-{agency[-6:]}", "Jail officer", Role.jail_officer, agency=agency)
    response = client.post(
        "/bookings",
        json={
            "agency": agency,
            "booking_number": f"W-{agency[-6:]}",
            "booked_at": booked_at,
            "person": {
                "last_name": "Roe",
                "first_name": "Ana",
                "date_of_birth": "1985-05-05",
                "address": "1200 W Harrison St, Chicago",
            },
            "charges": [{"offense": "theft", "level": "misdemeanor"}],
        },
        headers=bearer(issuer, jail),
    )
    assert response.status_code == 201, response.text
    booking_id: str = response.json()["id"]
    return booking_id


def _release(client: TestClient, issuer: Issuer, booking_id: str, agency: str, at: str) -> None:
    jail = Principal(f"jail-{agency[-6:]}", "Jail officer", Role.jail_officer, agency=agency)
    done = client.post(
        f"/bookings/{booking_id}/release-eligibility", json={"reason": "bail", "at": at}, headers=bearer(issuer, jail)
    )
    assert done.status_code == 200, done.text


def test_cook_county_withholds_release_date_and_custody_status_naming_the_ordinance(
    client: TestClient, issuer: Issuer, custody: Custody
) -> None:
    booking_id = _book(client, issuer, COOK, "2017-08-16T01:00:00-05:00")
    _release(client, issuer, booking_id, COOK, "2017-08-16T07:00:00-05:00")
    local = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "jail_officer@cook")).json()
    assert local["state"] == "released" and local["left_custody_at"]

    seen: dict[str, Any] = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "federal_officer@il")).json()
    assert seen["state"] is None and seen["left_custody_at"] is None and seen["release_eligible_at"] is None
    assert "timeline" not in seen and all(m["to_party"] == "federal" for m in seen["messages"])
    withheld = seen["sharing"]["withheld"]
    assert set(withheld) == {"release_date", "custody_status"}
    assert withheld["release_date"]["citations"] == ["Cook County Code § 46-37(b)"]
    assert withheld["release_date"]["status"] == "prohibited" and withheld["release_date"]["action"] == "notify"
    # Cook's law does not forbid sharing an address: federal law permits it, and it is shared.
    assert seen["person"]["address"] == "1200 W Harrison St, Chicago"
    assert seen["sharing"]["shared"]["address"]["citations"] == ["8 U.S.C. 1357(g)(10)"]
    listed = client.get("/bookings", headers=bearer(issuer, "federal_officer@il")).json()["items"]
    assert [(b["id"], b["state"], b["left_custody_at"]) for b in listed] == [(booking_id, None, None)]


def test_miami_dade_shares_release_date_and_custody_status_as_its_directive_requires(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    clock.set(datetime.fromisoformat("2017-03-01T12:00:00-05:00"))
    booking_id = _book(client, issuer, MIAMI_DADE, "2017-03-01T01:00:00-05:00")
    _release(client, issuer, booking_id, MIAMI_DADE, "2017-03-01T07:00:00-05:00")
    seen = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "federal_officer@fl")).json()
    assert seen["state"] == "released" and seen["left_custody_at"].startswith("2017-03-01T12:00")
    shared = seen["sharing"]["shared"]
    assert shared["release_date"]["status"] == "required"
    assert shared["release_date"]["citations"] == ["Miami-Dade Mayoral Directive of 26 Jan 2017"]
    assert seen["sharing"]["withheld"] == {}


def test_california_withholds_the_address_under_sb_54(
    client: TestClient, issuer: Issuer, custody: Custody, clock: ManualClock
) -> None:
    clock.set(datetime.fromisoformat("2018-03-01T12:00:00-08:00"))
    booking_id = _book(client, issuer, LOS_ANGELES, "2018-03-01T01:00:00-08:00")
    seen = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, CA_OFFICER)).json()
    assert seen["person"]["address"] is None
    assert seen["sharing"]["withheld"]["address"]["citations"] == ["Cal. Gov. Code 7284.6(a)(1)(D)"]
    assert seen["sharing"]["withheld"]["release_date"]["citations"] == ["Cal. Gov. Code 7284.6(a)(1)(C)"]


def test_a_federal_officer_outside_the_area_is_refused_and_the_page_names_the_provision(
    client: TestClient, issuer: Issuer
) -> None:
    booking_id = _book(client, issuer, COOK, "2017-08-16T01:00:00-05:00")
    refused = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "federal_officer@fl"))
    assert refused.status_code == 403 and "outside your area" in refused.json()["detail"]
    assert "county:cook" not in refused.text  # nor where the person is held (found by a review)
    page = client.get(f"/federal/bookings/{booking_id}", headers=bearer(issuer, "federal_officer@il"))
    assert page.status_code == 200 and "Withheld" in page.text and "Cook County Code § 46-37(b)" in page.text


def test_a_request_issued_days_after_the_booking_is_weighed_on_its_own_day(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    """The federal view asks the law on the latest request's day: asked on the booking's day, a request
    issued two days later was refused as 'issued after the decision date' and the view failed."""
    clock.set(datetime.fromisoformat("2017-08-20T12:00:00-05:00"))
    booking_id = _book(client, issuer, COOK, "2017-08-16T23:00:00-05:00")
    issued = client.post(
        "/federal/requests",
        json={
            "booking_id": booking_id,
            "form": "I-247A",
            "warrant": "I-200",
            "officer": {"name": "O"},
            "issued_at": "2017-08-18T10:00:00-05:00",
        },
        headers=bearer(issuer, "federal_officer@il"),
    )
    assert issued.status_code == 201, issued.text
    seen = client.get(f"/bookings/{booking_id}", headers=bearer(issuer, "federal_officer@il"))
    assert seen.status_code == 200, seen.text
    assert seen.json()["sharing"]["on"] == "2017-08-18"
    assert set(seen.json()["sharing"]["withheld"]) == {"release_date", "custody_status"}


def test_a_request_closed_by_a_release_the_law_withholds_reads_as_answered_to_the_federal_side(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    """Found by an audit: the request's state went from "responded" to "closed" when Cook County
    released the person, telling the federal officer the release the ordinance withholds."""
    clock.set(datetime.fromisoformat("2017-08-16T09:00:00-05:00"))
    booking_id = _book(client, issuer, COOK, "2017-08-16T01:00:00-05:00")
    federal = bearer(issuer, "federal_officer@il")
    request = {"booking_id": booking_id, "form": "I-247A", "warrant": "I-200", "officer": {"name": "O"}}
    issued = client.post(
        "/federal/requests", json={**request, "issued_at": "2017-08-16T06:00:00-05:00"}, headers=federal
    )
    assert issued.status_code == 201, issued.text
    request_id = issued.json()["id"]
    jail = Principal("jail-cook", "Jail officer", Role.jail_officer, agency=COOK)
    answered = client.post(
        f"/federal/requests/{request_id}/response",
        json={"at": "2017-08-16T06:30:00-05:00", "answers": {"transfer": "decline"}},
        headers=bearer(issuer, jail),
    )
    assert answered.status_code == 200, answered.text
    _release(client, issuer, booking_id, COOK, "2017-08-16T07:00:00-05:00")

    local = client.get(f"/federal/requests/{request_id}", headers=bearer(issuer, "jail_officer@cook")).json()
    assert local["state"] == "closed"  # the agency's own record
    assert client.get(f"/federal/requests/{request_id}", headers=federal).json()["state"] == "responded"
    booking = client.get(f"/bookings/{booking_id}", headers=federal).json()
    assert [r["state"] for r in booking["requests"]] == ["responded"]
    by_state = {
        state: [r["id"] for r in client.get(f"/federal/requests?state={state}", headers=federal).json()["items"]]
        for state in ("closed", "responded")
    }
    assert by_state == {"closed": [], "responded": [request_id]}


NEW_JERSEY = "ocd-division/country:us/state:nj"
NJ_OFFICER = Principal("fed-newark", "ERO Newark", Role.federal_officer, area=(NEW_JERSEY,), office="ERO Newark")


def test_a_hand_over_answers_the_federal_officer_with_what_the_law_lets_them_see(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    """Found by a review: New Jersey's directive withholds the address (and, with the notice
    declined, the custody status), and GET /bookings/{id} withheld them, but the answer to the same
    officer's POST …/transfer was the jail's own view: address, local timeline and all."""
    clock.set(datetime.fromisoformat("2020-06-01T21:00:00-04:00"))
    jail = bearer(issuer, Principal("jail-nj", "Jail officer", Role.jail_officer, agency=NEW_JERSEY))
    federal = bearer(issuer, NJ_OFFICER)
    booked = client.post(
        "/bookings",
        json={
            "agency": NEW_JERSEY,
            "booking_number": "NJ-20-1",
            "booked_at": "2020-06-01T08:00:00-04:00",
            "person": {"last_name": "Doe", "first_name": "Ana", "date_of_birth": "1990-01-01", "address": "12 Elm St"},
            "charges": [{"offense": "assault", "level": "felony", "violent": True, "serious": True}],
            "convictions": [
                {"offense": "aggravated assault", "level": "felony", "date": "2015-01-01", "violent": True}
            ],
        },
        headers=jail,
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]
    request = {"booking_id": booking_id, "form": "I-247A", "warrant": "I-200", "officer": {"name": "F. Officer"}}
    issued = client.post(
        "/federal/requests", json={**request, "issued_at": "2020-06-01T09:00:00-04:00"}, headers=federal
    )
    assert issued.status_code == 201, issued.text
    request_id = issued.json()["id"]
    answers = {"hold": "honor", "transfer": "honor", "notify": "decline"}
    for path, body in (
        ("response", {"answers": answers, "at": "2020-06-01T10:00:00-04:00"}),
        ("service", {"at": "2020-06-01T11:00:00-04:00"}),
    ):
        done = client.post(f"/federal/requests/{request_id}/{path}", json=body, headers=jail)
        assert done.status_code == 200, done.text
    _release_at = client.post(
        f"/bookings/{booking_id}/release-eligibility",
        json={"reason": "bail", "at": "2020-06-01T15:00:00-04:00"},
        headers=jail,
    )
    assert _release_at.status_code == 200 and _release_at.json()["state"] == "held_on_detainer"
    read = client.get(f"/bookings/{booking_id}", headers=federal).json()
    assert read["person"]["address"] is None and "address" in read["sharing"]["withheld"]

    handed = client.post(
        f"/bookings/{booking_id}/transfer",
        json={"at": "2020-06-01T20:00:00-04:00", "officer": {"name": "F. Officer"}},
        headers=federal,
    )
    assert handed.status_code == 200, handed.text
    answer = handed.json()
    assert answer["person"]["address"] is None and "timeline" not in answer
    assert set(answer["sharing"]["withheld"]) == set(read["sharing"]["withheld"])
    assert (
        client.get(f"/bookings/{booking_id}", headers=bearer(issuer, jail_of(NEW_JERSEY))).json()["person"]["address"]
        == "12 Elm St"
    )


def jail_of(agency: str) -> Principal:
    return Principal(f"jail-{agency[-6:]}", "Jail officer", Role.jail_officer, agency=agency)


def test_the_agency_s_mark_of_a_withheld_notice_is_not_shown_to_the_federal_side(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    """Found by a review: scheduling a release in Cook County set ``notice_withheld`` on the
    request's answer, and the federal officer's view of the request showed it, telling them a
    release was scheduled while the booking's view withheld it."""
    clock.set(datetime.fromisoformat("2017-08-16T12:00:00-05:00"))
    booking_id = _book(client, issuer, COOK, "2017-08-16T08:00:00-05:00")
    federal, jail = bearer(issuer, "federal_officer@il"), bearer(issuer, jail_of(COOK))
    request_id = _transfer_declined(
        client, issuer, booking_id, "2017-08-16T09:00:00-05:00", "2017-08-16T10:00:00-05:00"
    )
    scheduled = client.post(
        f"/bookings/{booking_id}/release-schedule",
        json={"planned_at": "2017-08-20T10:00:00-05:00", "at": "2017-08-16T11:00:00-05:00"},
        headers=jail,
    )
    assert scheduled.status_code == 200, scheduled.text
    assert client.get(f"/federal/requests/{request_id}", headers=jail).json()["response"]["notice_withheld"] is True
    seen = [
        client.get(f"/federal/requests/{request_id}", headers=federal).json(),
        *client.get("/federal/requests", headers=federal).json()["items"],
        *client.get(f"/bookings/{booking_id}", headers=federal).json()["requests"],
    ]
    assert len(seen) == 3 and all("notice_withheld" not in r["response"] for r in seen)


def test_a_refusal_does_not_tell_a_federal_officer_the_custody_status_the_law_withholds(
    client: TestClient, issuer: Issuer, clock: ManualClock
) -> None:
    """Found by a review: with Cook County's § 46-37(b) withholding a released person's status, a
    hand-over or a new request was refused as "booking … is released" and a cancellation as
    "request … is closed". The refusal now says only that the reason is withheld, and where;
    Miami-Dade, whose directive shares the status, still gives the reason."""
    clock.set(datetime.fromisoformat("2017-08-17T12:00:00-05:00"))
    federal = bearer(issuer, "federal_officer@il")
    booking_id = _book(client, issuer, COOK, "2017-08-16T08:00:00-05:00")
    request = {"booking_id": booking_id, "form": "I-247A", "warrant": "I-200", "officer": {"name": "F"}}
    request_id = _transfer_declined(
        client, issuer, booking_id, "2017-08-16T09:00:00-05:00", "2017-08-16T09:30:00-05:00"
    )
    _release(client, issuer, booking_id, COOK, "2017-08-16T10:00:00-05:00")
    refusals = [
        client.post(
            f"/bookings/{booking_id}/transfer",
            json={"at": "2017-08-17T10:00:00-05:00", "officer": {"name": "F"}},
            headers=federal,
        ),
        client.post("/federal/requests", json={**request, "issued_at": "2017-08-17T10:00:00-05:00"}, headers=federal),
        client.post(
            f"/federal/requests/{request_id}/cancellation",
            json={"at": "2017-08-17T10:00:00-05:00", "reason": "no longer sought"},
            headers=federal,
        ),
    ]
    for refused in refusals:
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert "Cook County" in detail and "Cook County Code § 46-37(b)" in detail and "ask the agency" in detail
        assert not any(word in detail for word in ("released", "closed", "in_custody", "hold ended"))
    page = client.post(
        f"/release/{booking_id}/transfer", data={"officer": "F", "at": "2017-08-17T10:00"}, headers=federal
    )
    assert page.status_code == 409 and "released" not in page.text and "46-37(b)" in page.text

    clock.set(datetime.fromisoformat("2017-03-02T12:00:00-05:00"))
    shared = _book(client, issuer, MIAMI_DADE, "2017-03-01T01:00:00-05:00")
    _release(client, issuer, shared, MIAMI_DADE, "2017-03-01T07:00:00-05:00")
    told = client.post(
        f"/bookings/{shared}/transfer",
        json={"at": "2017-03-01T10:00:00-05:00", "officer": {"name": "F"}},
        headers=bearer(issuer, "federal_officer@fl"),
    )
    assert told.status_code == 409 and "released" in told.json()["detail"]


def _transfer_declined(client: TestClient, issuer: Issuer, booking_id: str, issued_at: str, answered_at: str) -> str:
    """A Cook County booking's I-247A, issued by the Chicago federal officer and answered by the jail,
    declining the hand-over (the law decides the rest): the request's id."""
    request = {"booking_id": booking_id, "form": "I-247A", "warrant": "I-200", "officer": {"name": "F"}}
    issued = client.post(
        "/federal/requests", json={**request, "issued_at": issued_at}, headers=bearer(issuer, "federal_officer@il")
    )
    assert issued.status_code == 201, issued.text
    request_id: str = issued.json()["id"]
    answered = client.post(
        f"/federal/requests/{request_id}/response",
        json={"answers": {"transfer": "decline"}, "at": answered_at},
        headers=bearer(issuer, jail_of(COOK)),
    )
    assert answered.status_code == 200, answered.text
    return request_id
