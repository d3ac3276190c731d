"""End to end in a real browser (Debian's Chromium, headless), as the people who use custody would:
a jail officer books a person; a federal officer sees the hit and issues a detainer; the jail
officer sees the decision explained with citations, serves the copy and answers; release proceeds
as the decision says; and a federal officer whose jurisdiction's law withholds release dates
cannot see one, in the page or through the API. Every view is screenshotted (var/screenshots/)
and checked with axe-core for serious or critical accessibility violations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from custody.access.roles import DEMO_USERS
from custody.identity.commands import IdentityIn
from tests.access.support import bearer
from tests.web.conftest import AXE, SCREENSHOTS, Live

COOK_JAIL = DEMO_USERS["demo-jail-officer-cook"]
CHICAGO_ERO = DEMO_USERS["demo-federal-officer-chicago"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(base_url=live.base, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Any, subject: str) -> None:
    user = DEMO_USERS[subject]
    page.goto("/signin")
    page.get_by_role("button", name=f"Sign in as {user.name}").click()
    page.wait_for_url(re.compile(r".*/(desk|federal|release|stats|audit|grants)"))
    assert user.name in page.locator("header").inner_text()


def fill_booking(page: Any, number: str, born: str, fbi: str) -> None:
    """The booking desk's form, as the jail officer fills it for Ada Okonjo on a retail theft charge."""
    page.get_by_label("Booking number").fill(number)
    page.get_by_label("Last name").fill("Okonjo")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("FBI number").fill(fbi)
    page.get_by_label("Charge", exact=True).fill("retail theft")


def check_view(page: Any, name: str) -> None:
    """Screenshot the view, then run axe-core on it: no serious or critical violation."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""",
        AXE_TAGS,
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: {serious}"


def test_detainer_from_booking_to_release_in_the_browser(page: Any, live: Live) -> None:
    live.service.enrol(IdentityIn(names=["OKONJO, Ada"], identifiers={"fbi": "E2E-4711"}, record={"a_number": "A1"}))

    page.goto("/")
    assert page.get_by_role("heading", name="Sign in to the demo").is_visible()
    check_view(page, "01-landing")
    page.goto("/signin")
    check_view(page, "02-signin")
    anonymous = page.goto("/federal")
    assert anonymous is not None and anonymous.status == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    # 1. The jail officer books the person at the desk.
    sign_in(page, "demo-jail-officer-cook")
    check_view(page, "03-booking-desk")
    fill_booking(page, "CCJ-E2E-1", "1991-02-03", "E2E-4711")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/desk/bkg_"))
    booking_id = page.url.split("/desk/")[1].split("?")[0]
    assert "Hit" in page.locator("main").inner_text()
    check_view(page, "04-booking")

    # 2. The federal officer sees the hit and issues a detainer.
    sign_in(page, "demo-federal-officer-chicago")
    hit = page.locator(f"#hit-{booking_id}")
    assert "Okonjo, Ada" in hit.inner_text()
    check_view(page, "05-federal-view")
    hit.get_by_label("Form").select_option("I-247A")
    hit.get_by_label("Warrant").select_option("I-200")
    hit.get_by_role("button", name="Issue").click()
    page.wait_for_url(re.compile(r".*done=request"))
    assert "issued" in page.locator(".note").inner_text()

    # 3. The jail officer sees the decision explained with citations, serves the copy and answers.
    sign_in(page, "demo-jail-officer-cook")
    page.goto("/inbox")
    card = page.locator("section.card").filter(has_text="CCJ-E2E-1")
    text = card.inner_text()
    assert "Cook County Code § 46-37(a)" in text and "Prohibited under Cook County Code" in text
    check_view(page, "06-detainer-inbox")
    card.get_by_role("button", name="Record service of the copy").click()
    page.wait_for_url(re.compile(r".*done=copy\+served"))
    card = page.locator("section.card").filter(has_text="CCJ-E2E-1")
    assert "Copy served on the person" in card.inner_text()
    for select in card.locator("select").all():
        select.select_option("decline")
    card.get_by_role("button", name="Send the answer").click()
    page.wait_for_url(re.compile(r".*done=answered"))
    answered = page.locator("section.card").filter(has_text="CCJ-E2E-1").inner_text()
    assert "hold: decline" in answered and "notify: decline" in answered

    # 4. Release proceeds per the decision: no hold, the notice withheld with its provision.
    live.clock.advance(timedelta(hours=6, minutes=17))  # bail is posted later that day
    page.goto("/release")
    queued = page.locator(f"#{booking_id}")
    check_view(page, "07-release-queue")
    queued.get_by_role("button", name="Record and proceed per the decision").click()
    page.wait_for_url(re.compile(r".*done=release\+recorded"))
    gone = page.locator(f"tr#{booking_id}").inner_text()
    assert "released" in gone and "Withheld" in gone and "Cook County Code § 46-37(b)" in gone
    check_view(page, "08-release-done")

    # 5. The federal officer cannot see the release date: not on the page, not through the API.
    sign_in(page, "demo-federal-officer-chicago")
    page.goto(f"/federal/bookings/{booking_id}")
    release_row = page.locator("#field-release_date").inner_text()
    assert "Withheld" in release_row and "Cook County Code § 46-37(b)" in release_row
    assert "Withheld" in page.locator("#field-custody_status").inner_text()
    check_view(page, "09-federal-booking-withheld")
    local = live.service.booking_view(booking_id)
    shown = page.locator("main").inner_text()
    assert local["left_custody_at"] == "2017-08-16T19:17:00+00:00" and "19:17" not in shown and "14:17" not in shown
    via_cookie = page.request.get(f"/bookings/{booking_id}").json()
    via_token = httpx.get(f"{live.base}/bookings/{booking_id}", headers=bearer(live.issuer, CHICAGO_ERO)).json()
    for seen in (via_cookie, via_token):
        assert seen["left_custody_at"] is None and seen["release_eligible_at"] is None and seen["state"] is None
        assert seen["sharing"]["withheld"]["release_date"]["citations"] == ["Cook County Code § 46-37(b)"]


@pytest.mark.parametrize(
    ("subject", "path", "name", "expect"),
    [
        (
            "demo-jail-supervisor-cook",
            "/law?division=ocd-division/country:us/state:il/county:cook&on=2017-08-16",
            "10-law-browser",
            "Cook County Code § 46-37(a)",
        ),
        ("demo-analyst", "/stats", "11-statistics", "Outcomes for"),
        ("demo-auditor", "/audit", "12-audit", "intact"),
        ("demo-jail-supervisor-miami-dade", "/release", "13-release-queue-miami-dade", "Release queue"),
        ("demo-federal-officer-miami", "/federal", "14-federal-view-miami", "Identification hits"),
    ],
)
def test_every_other_view_renders_and_is_accessible(page: Any, subject: str, path: str, name: str, expect: str) -> None:
    sign_in(page, subject)
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert expect in page.locator("main").inner_text()
    check_view(page, name)


def test_a_role_without_the_view_is_told_what_to_do(page: Any) -> None:
    sign_in(page, "demo-analyst")
    response = page.goto("/desk")
    assert response is not None and response.status == 403
    assert "needs one of" in page.locator("main").inner_text()
    check_view(page, "15-forbidden")


def test_a_refused_form_says_why_above_the_form_and_keeps_what_was_typed(page: Any) -> None:
    """Found by an audit: a refused booking replaced the page with its problem's JSON, and the officer
    had to type everything again."""
    sign_in(page, "demo-jail-officer-cook")
    page.goto("/desk")
    fill_booking(page, "CCJ-E2E-BAD", "2099-02-03", "E2E-4712")  # born after the booking: refused
    page.get_by_role("button", name="Book").click()
    problem = page.locator("#problem [role=alert]")
    problem.wait_for()
    assert "date_of_birth" in problem.inner_text() and "Nothing was saved" in problem.inner_text()
    assert "{" not in page.locator("main").inner_text()  # no JSON
    assert page.get_by_label("Booking number").input_value() == "CCJ-E2E-BAD"
    assert page.get_by_label("Last name").input_value() == "Okonjo"
    check_view(page, "16-refused-form")


def test_the_law_browser_decides_for_the_division_and_date_chosen_in_its_own_form(page: Any) -> None:
    """Found by an audit: the page opened on Washington whoever signed in, and "Decide" used the
    division and date shown last, not those picked; the status read "prohibited ( h)"."""
    sign_in(page, "demo-jail-officer-cook")
    page.goto("/law")
    assert page.locator("#division").input_value() == "ocd-division/country:us/state:il/county:cook"
    page.locator("#decide-on").fill("2017-08-16")
    page.get_by_role("button", name="Decide").click()
    page.locator("#decision").wait_for()
    decision = page.locator("table").last.inner_text()
    assert "prohibited" in decision and "( h)" not in decision and "Cook County Code" in decision
    assert "2017-08-16" in page.locator("h2", has_text="In force for agencies of").inner_text()


def test_a_grant_administrator_sees_each_condition_against_the_grantee_s_law(page: Any) -> None:
    """Grant administrators had no view of their own: the grant check was JSON and a command."""
    sign_in(page, "demo-grant-administrator")
    assert page.url.endswith("/grants")
    page.locator("#division").select_option("ocd-division/country:us/state:il/county:cook")
    page.get_by_role("button", name="Check").click()
    page.locator("h2", has_text="Cook County, Illinois").wait_for()  # the page it opened on has a #notice too
    notice = page.locator("#notice").inner_text()
    assert "conflicts" in notice and "Cook County Code § 46-37(b)" in notice
    assert "binding in this circuit" in notice and "City of Chicago v. Sessions" in notice
    assert "not determinable" in page.locator("#compliance").inner_text()
    check_view(page, "18-grant-conditions")


def test_an_analyst_reads_the_answer_to_their_own_question(page: Any) -> None:
    """Found by an audit: the law browser sent every decision to the decision log's page, which an
    analyst may not read, so an analyst who asked the law a question was refused its answer."""
    sign_in(page, "demo-analyst")
    page.goto("/law")
    page.locator("#decide-division").select_option("ocd-division/country:us/state:fl/county:miami-dade")
    page.locator("#decide-on").fill("2019-10-15")
    page.get_by_role("button", name="Decide").click()
    page.locator("#decision").wait_for()
    decision = page.locator("table").last.inner_text()
    assert "required" in decision and "Miami-Dade Mayoral Directive" in decision
    check_view(page, "17-law-decision-analyst")


def test_the_audit_viewer_shows_a_refused_access_as_refused(page: Any) -> None:
    """Found by an audit: a refused visit was listed as "PersonalDataAccessed" with nothing to say it
    was refused."""
    sign_in(page, "demo-analyst")
    assert page.goto("/desk").status == 403  # type: ignore[union-attr]
    sign_in(page, "demo-auditor")
    page.goto("/audit")
    rows = [r for r in page.locator("tbody tr").all_inner_texts() if "/desk" in r or "refused" in r]
    assert any("refused (403)" in r for r in rows), rows


def test_the_booking_page_shows_what_the_officer_entered(page: Any) -> None:
    """Found by an audit: the statute, the prior conviction and the address entered at the desk were
    stored but not shown, so the officer could not check them."""
    sign_in(page, "demo-jail-officer-cook")
    page.goto("/desk")
    fill_booking(page, "CCJ-E2E-SHOWN", "1991-02-03", "E2E-4713")
    page.get_by_label("Home address (shared with federal officers only where the law allows)").fill("1 Main St")
    page.get_by_label("Statute (optional)").fill("720 ILCS 5/16-25")
    page.get_by_label("Prior conviction (optional)").fill("burglary")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/desk/bkg_"))
    shown = page.locator("main dl").inner_text()
    for entered in ("720 ILCS 5/16-25", "burglary (felony", "1 Main St", "FBI E2E-4713"):
        assert entered in shown, (entered, shown)
    # The agency by its name (its OCD id on hover), the state in words.
    assert "Held by\nCook County, Illinois" in shown and "ocd-division" not in shown, shown
    held_by = page.locator("main dl span.place").first
    assert held_by.get_attribute("title") == "ocd-division/country:us/state:il/county:cook"
    page.goto("/desk")
    row = page.locator("tbody tr", has_text="CCJ-E2E-SHOWN").inner_text()
    assert "in custody" in row and "in_custody" not in row, row


def test_the_pages_fit_a_phone(browser: Any, live: Live) -> None:
    """Found by an audit at 390 pixels: the federal view was 1,184 wide, sign-in 708 with its
    buttons off screen, the law browser 776."""
    context = browser.new_context(base_url=live.base, viewport={"width": 390, "height": 800})
    phone = context.new_page()
    try:
        phone.goto("/signin")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        sign_in(phone, "demo-federal-officer-chicago")
        for path in ("/federal", "/law"):
            phone.goto(path)
            wide = phone.evaluate(
                """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 392)
                     .slice(0, 5).map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 60))"""
            )
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390, (path, wide)
    finally:
        context.close()


def test_the_release_queue_refreshes_its_own_page_and_never_over_a_form_being_filled(page: Any) -> None:
    """Found by a review: the queue's 30-second refresh fetched the first page whatever page was open,
    and replaced a release form the officer was filling in, losing what was typed."""
    sign_in(page, "demo-jail-officer-cook")
    page.goto("/desk")
    fill_booking(page, "CCJ-E2E-QUEUE", "1990-04-05", "E2E-4714")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/desk/bkg_"))
    page.goto("/release?limit=5&offset=0")
    assert page.locator("#queue").get_attribute("hx-get") == "/release?limit=5&offset=0"
    being_filled = "document.querySelector('#queue[data-edited], #queue form:focus-within') !== null"
    assert page.evaluate(being_filled) is False  # nothing typed: the refresh runs
    page.locator("#queue input[name=officer]").first.fill("R. Alvarez")
    page.locator("h1").click()  # the officer looks away: what was typed must still not be replaced
    assert page.evaluate(being_filled) is True
    filter_ = page.locator("#queue").get_attribute("hx-trigger")
    assert filter_ is not None and "#queue[data-edited], #queue form:focus-within" in filter_
