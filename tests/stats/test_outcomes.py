"""Outcomes of custody's own process, on the seed scenarios run through the real service."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from custody.booking.commands import BookingIn
from custody.domain.clock import ManualClock
from custody.domain.errors import NotFound
from custody.law.loader import default_library
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.stats.outcomes import outcomes
from custody.stats.policy import policy_timeline
from custody.store.models import BookingRow

COOK = "ocd-division/country:us/state:il/county:cook"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"


def test_declines_honors_lapses_and_releases_are_counted(custody: Custody, clock: ManualClock) -> None:
    seed_scenarios.chicago_then_cook(custody)
    seed_scenarios.miami_dade_transferred(custody)
    seed_scenarios.miami_dade_lapsed(custody)
    with custody.unit() as unit:
        cook, dade, every = (outcomes(unit.session, a) for a in (COOK, MIAMI_DADE, None))
    assert cook["requests"]["received"] == 1 and cook["requests"]["declined"] == 1 and cook["requests"]["honored"] == 0
    assert cook["requests"]["by_action"]["hold"] == {"honored": 0, "declined": 1}
    assert dade["requests"]["honored"] == 2 and dade["requests"]["lapsed"] == 1
    # Cook releases with the declined detainer still on file; the lapsed Miami-Dade hold ends in a release too.
    assert cook["releases_with_request_in_force"] == 1 and dade["releases_with_request_in_force"] == 1
    assert every["requests"]["received"] == 3
    assert every["rebooked_within_days"] == {"30": 0, "90": 0, "365": 0}


def _book_again(custody: Custody, fbi: str, number: str, at: datetime) -> str:
    booking = custody.book(
        BookingIn.model_validate(
            {
                "agency": "ocd-division/country:us/state:il/place:chicago",
                "booking_number": number,
                "booked_at": at.isoformat(),
                "person": {
                    "last_name": "Garcia",
                    "first_name": "Luis",
                    "date_of_birth": "1988-03-14",
                    "identifiers": {"fbi": fbi},
                },
                "charges": [{"offense": "retail theft", "level": "misdemeanor", "date": at.date().isoformat()}],
            }
        )
    )
    return booking.id


def book_much_later(custody: Custody, clock: ManualClock, after: datetime) -> None:
    """Someone else booked 400 days after ``after``: the store then follows an earlier release through
    every re-booking window."""
    at = after + timedelta(days=400)
    clock.set(at + timedelta(hours=1))
    _book_again(custody, "FBI-LATER", "CPD-LATER", at)


def test_a_released_person_booked_again_is_counted_in_the_windows(custody: Custody, clock: ManualClock) -> None:
    first = seed_scenarios.chicago_then_cook(custody, fbi="FBI-R-1", number="CPD-R-1")
    with custody.unit() as unit:
        booking = unit.session.get(BookingRow, first.booking_id)
        released_at = booking.left_custody_at if booking else None
    assert released_at is not None
    clock.set(released_at + timedelta(days=46))
    again = _book_again(custody, "FBI-R-1", "CPD-R-2", released_at + timedelta(days=45))
    with custody.unit() as unit:
        result = outcomes(unit.session)
        rows = [unit.session.get(BookingRow, b) for b in (first.booking_id, again)]
    identities = {row.identity_id for row in rows if row is not None}
    assert len(identities) == 1 and None not in identities
    # Found by a review: a rate needs the releases followed long enough, and its numerator must be
    # part of them. The last booking is 45 days after the release: followed for 30 days, not yet for
    # 90 or 365, so the re-booking at 45 days is not yet counted in those windows.
    assert result["releases_followed_for_days"] == {"30": 1, "90": 0, "365": 0}
    assert result["rebooked_within_days"] == {"30": 0, "90": 0, "365": 0}
    book_much_later(custody, clock, released_at)
    with custody.unit() as unit:
        result = outcomes(unit.session)
    assert result["releases_followed_for_days"] == {"30": 1, "90": 1, "365": 1}
    assert result["rebooked_within_days"] == {"30": 0, "90": 1, "365": 1}


def test_policy_timeline_lists_dated_instruments_from_the_library() -> None:
    library = default_library()
    rows = policy_timeline(library)
    instruments = {i.id for j in library.jurisdictions.values() for i in j.instruments}
    assert len(rows) == len(instruments)
    dade = [r for r in rows if r["division"] == MIAMI_DADE]
    assert [r["from"] for r in dade] == sorted(r["from"] for r in dade)
    assert dade[-1]["hold"].startswith("required") and dade[0]["hold"].startswith("prohibited")


def test_policy_timeline_shows_every_rule_its_condition_and_what_custody_could_not_verify() -> None:
    """Found by a review: the Illinois TRUST Act of 2017 showed "notify: prohibited" with neither the
    condition (no warrant, or an administrative one) nor that the reading is custody's own, unverified;
    and only the first rule on an action was shown."""
    rows = {r["instrument"]: r for r in policy_timeline(default_library())}
    trust = rows["Illinois TRUST Act (Public Act 100-0463)"]
    assert trust["hold"] == "prohibited when warrant_in none, administrative"
    assert trust["notify"] == "prohibited when warrant_in none, administrative [unverified]"
    way_forward = rows["Illinois TRUST Act as amended by the Illinois Way Forward Act (SB 667, Public Act 102-0234)"]
    assert way_forward["notify"].count("prohibited") == 2  # § 15(a) and § 15(h), each shown
    nyc = rows[
        "New York City Local Law 58 of 2014 (Int 0486-2014), persons not to be detained by the Department of Correction"
    ]
    assert nyc["notify"].endswith("[an exception turns on a question of law custody does not settle]")


def test_grant_conditions_are_tabled_per_jurisdiction() -> None:
    from custody.law.loader import default_library
    from custody.stats.grants import by_jurisdiction

    rows = {r["division"]: r for r in by_jurisdiction(default_library())}
    cook = rows["ocd-division/country:us/state:il/county:cook"]
    assert (cook["notice"], cook["access"]) == ("conflicts", "conflicts")
    miami = rows["ocd-division/country:us/state:fl/county:miami-dade"]
    assert (miami["notice"], miami["access"]) == ("no conflict", "no conflict")
    assert all(r["compliance"] == "not determinable" for r in rows.values())


def test_an_agency_with_no_booking_in_the_store_is_refused_not_counted_as_zeros(custody: Custody) -> None:
    """Found by a review: a misspelt agency answered with zeros, which read as an agency with none."""
    seed_scenarios.chicago_then_cook(custody)
    with custody.unit() as unit, pytest.raises(NotFound, match=r"no booking of .*county:cok is in this store"):
        outcomes(unit.session, "ocd-division/country:us/state:il/county:cok")
