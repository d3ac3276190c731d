"""What the pages print: moments in the agency's own time, hold clocks in words, the federal view's
pickups."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from custody.access.roles import Principal, Role
from custody.access.tokens import Issuer
from custody.booking.commands import ScheduleIn
from custody.domain.clock import ManualClock
from custody.law.model import Action
from custody.release.commands import ReleaseIn
from custody.requests.commands import Answer, ResponseIn, ServeIn
from custody.service import Custody
from custody.web.pages import CLOCK_WORDS, local_time, place, words
from tests.access.support import bearer, client, issuer  # noqa: F401 (fixtures)
from tests.release.detainer import booked, i247a

MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"
TEXAS = "ocd-division/country:us/state:tx"


def test_a_moment_reads_in_the_agencys_zone_with_its_abbreviation() -> None:
    """An audit found a Miami hold's end shown in UTC, five hours off the officer's clock."""
    assert local_time("2026-12-09T09:28:00+00:00", MIAMI_DADE) == "2026-12-09 04:28 EST"
    assert local_time("2019-07-04T16:00:00+00:00", "ocd-division/country:us/state:tx/county:el_paso") == (
        "2019-07-04 10:00 MDT"
    )
    assert local_time("2026-12-09T09:28:00+00:00", "access:cli") == "2026-12-09 09:28 UTC"  # no agency's clock
    # an access chain of one jurisdiction reads on its clock (found by a review: the audit table mixed zones)
    assert local_time("2026-12-09T09:28:00+00:00", f"access:{MIAMI_DADE}") == "2026-12-09 04:28 EST"
    assert local_time(None, MIAMI_DADE) == ""


def test_every_hold_clock_has_words() -> None:
    from custody.law.model import HoldClock

    assert set(CLOCK_WORDS) == {c.value for c in HoldClock}


def test_a_division_reads_as_its_name_with_its_id_on_hover() -> None:
    assert place(MIAMI_DADE) == (f'<span class="place" title="{MIAMI_DADE}">Miami-Dade County, Florida</span>')
    two = place("ocd-division/country:us/state:il, ocd-division/country:us/state:tx/county:el_paso")
    assert ">Illinois</span>, <span" in two and ">El Paso County, Texas</span>" in two
    assert place("all jurisdictions") == "all jurisdictions" and place(None) == ""
    assert place("<b>") == "&lt;b&gt;"  # not a division: shown as it is, escaped
    assert words("held_on_detainer") == "held on detainer" and words(None) == ""


def _held(custody: Custody, agency: str, number: str, transfer: Answer, eligible: bool = True) -> str:
    """A booking held on an I-247A in Texas, May 2017 (before SB 4: every action permitted), from its
    release eligibility at 9:30 (``eligible``), else answered only."""
    booking = booked(custody, agency, number, "2017-05-02T01:00:00-05:00")
    request = i247a(custody, booking, "2017-05-02T02:00:00-05:00")
    custody.serve(request, ServeIn(at=datetime.fromisoformat("2017-05-02T02:30:00-05:00")))
    answers = {Action.hold: Answer.honor, Action.notify: Answer.honor, Action.transfer: transfer}
    custody.respond(request, ResponseIn(answers=answers, at=datetime.fromisoformat("2017-05-02T03:00:00-05:00")))
    if eligible:
        release = {"reason": "bail", "at": "2017-05-02T09:30:00-05:00"}
        custody.release_eligible(booking, ReleaseIn.model_validate(release))
    return booking


def test_the_pickups_list_offers_each_holds_own_local_time_and_no_pickup_where_the_transfer_was_declined(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
    clock: ManualClock,
) -> None:
    """Found by a review: every row's time was filled in the zone of the officer's first area, so a
    hold in El Paso (Mountain time) under a Texas (Central) officer got a time an hour ahead, which
    is refused as in the future; and a hold whose transfer the agency declined offered a pickup."""
    clock.set(datetime.fromisoformat("2017-05-02T10:00:00-05:00"))
    declined = _held(custody, f"{TEXAS}/county:harris", "P-1", Answer.decline)
    el_paso = _held(custody, f"{TEXAS}/county:el_paso", "P-2", Answer.honor)
    officer = Principal("tx-officer", "TX Officer", Role.federal_officer, area=(TEXAS,), office="Houston")
    page = client.get("/federal", headers=bearer(issuer, officer))
    assert page.status_code == 200, page.text
    assert f'id="pick-at-{el_paso}" name="at" type="datetime-local" value="2017-05-02T09:00"' in page.text
    assert f'href="/federal/bookings/{el_paso}"' in page.text
    assert f"pick-at-{declined}" not in page.text and "No pickup: the agency declined the transfer" in page.text
    form = {"at": "2017-05-02T09:00", "officer": "TX Officer", "idempotency_key": "pick-1"}
    administrator = client.get("/federal", headers=bearer(issuer, "administrator"))
    assert administrator.status_code == 200 and f"pick-at-{el_paso}" not in administrator.text  # it would 403
    assert "Pickup due; recorded by the federal officers who take custody" in administrator.text
    picked = client.post(
        f"/release/{el_paso}/transfer", data=form, headers=bearer(issuer, officer), follow_redirects=False
    )
    assert picked.status_code == 303, picked.text
    assert picked.headers["location"].endswith(f"#hit-{el_paso}")  # the row's id on the federal view
    assert custody.booking_view(el_paso)["state"] == "transferred"


def test_the_federal_view_shows_a_planned_release_the_law_lets_the_agency_share(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
    clock: ManualClock,
) -> None:
    """Found by a review: with the notice sent and the law requiring the release date shared, the page
    said 'Release date: not yet set', the planned time being in neither the page nor the API's view."""
    clock.set(datetime.fromisoformat("2017-05-02T10:00:00-05:00"))
    booking = _held(custody, f"{TEXAS}/county:harris", "P-9", Answer.honor, eligible=False)
    custody.schedule_release(booking, ScheduleIn.model_validate({"planned_at": "2017-05-04T09:00:00-05:00"}))
    officer = Principal("tx-officer", "TX Officer", Role.federal_officer, area=(TEXAS,), office="Houston")
    page = client.get(f"/federal/bookings/{booking}", headers=bearer(issuer, officer))
    assert page.status_code == 200, page.text
    assert "release planned for 2017-05-04 09:00 CDT" in page.text and "not yet set" not in page.text
    seen = client.get(f"/bookings/{booking}", headers=bearer(issuer, officer)).json()
    assert seen["release_planned_at"] == "2017-05-04T14:00:00+00:00"


def test_the_release_queue_refreshes_the_page_open_and_not_over_a_form(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
) -> None:
    """Found by a review: the refresh fetched page one whatever page was open, and replaced forms."""
    page = client.get("/release?limit=5&offset=10", headers=bearer(issuer, "jail_supervisor@cook"))
    assert page.status_code == 200, page.text
    assert 'hx-get="/release?limit=5&amp;offset=10"' in page.text
    assert "every 30s [!document.querySelector('#queue[data-edited], #queue form:focus-within')]" in page.text


def test_the_statistics_page_offers_the_agencies_of_this_store_and_their_re_bookings(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
    clock: ManualClock,
) -> None:
    """Found by a review: the menu listed every jurisdiction of the law library (Texas, the United
    States), each of which with no booking answered 404; the re-booking figures its caveat names
    were not shown."""
    clock.set(datetime.fromisoformat("2017-05-02T10:00:00-05:00"))
    booked(custody, f"{TEXAS}/county:harris", "S-1", "2017-05-02T01:00:00-05:00")
    page = client.get("/stats", headers=bearer(issuer, "analyst"))
    assert page.status_code == 200, page.text
    offered = re.findall(r'<option value="([^"]+)"', page.text)
    assert offered == [f"{TEXAS}/county:harris"]
    assert "Booked again within 30 days, of the releases followed that long" in page.text


@pytest.mark.parametrize(
    ("agency", "choose"),
    [(f"{TEXAS}/county:harris", True), ("ocd-division/country:us/state:oh/county:franklin", False)],
    ids=["permitted", "undetermined"],
)
def test_the_answer_form_asks_a_choice_only_where_the_law_leaves_one(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
    clock: ManualClock,
    agency: str,
    choose: bool,
) -> None:
    """Found by a review: "— choose —" could be sent (refused, naming command-line flags), and an
    undetermined action offered "honor", which the law decision refuses."""
    clock.set(datetime.fromisoformat("2017-05-02T10:00:00-05:00"))
    request = i247a(custody, booked(custody, agency, "A-1", "2017-05-02T01:00:00-05:00"), "2017-05-02T02:00:00-05:00")
    officer = Principal("jail", "Jail Officer", Role.jail_officer, agency=agency)
    page = client.get("/inbox", headers=bearer(issuer, officer))
    assert page.status_code == 200, page.text
    select = f'<select id="answer-{request}-hold" name="answer_hold" required>'
    assert (select in page.text) is choose
    assert ("hold: <strong>decline</strong> — the law decision is undetermined" in page.text) is not choose


def test_the_law_browser_decides_for_agencies_on_a_request_issued_that_day(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
) -> None:
    """Found by a review: "Run a decision" offered the United States, which always answered 422, and an
    I-247 on 2026-01-01 came back undetermined asking for request.issued_on, a field the form lacks."""
    jail = bearer(issuer, "jail_officer@cook")
    page = client.get("/law?division=ocd-division/country:us/state:il/county:cook&on=2017-08-16", headers=jail)
    decide = page.text[page.text.index('<select id="decide-division"') :]
    decide = decide[: decide.index("</select>")]
    assert 'value="ocd-division/country:us"' not in decide and "county:cook" in decide
    form = {"division": f"{TEXAS}/county:harris", "on": "2026-01-01", "form": "I-247", "warrant": "administrative"}
    refused = client.post("/law", data={**form, "actions": ["hold"]}, headers=jail)
    assert refused.status_code == 422 and "form I-247 was not in use on 2026-01-01" in refused.text
