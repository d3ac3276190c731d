"""What the booking desk submits is checked before anything is written: dates that cannot be."""

from __future__ import annotations

from typing import Any

import pytest

from custody.booking.commands import BookingIn
from custody.domain.errors import InvalidInput
from custody.domain.inputs import parse_input

BOOKING: dict[str, Any] = {
    "agency": "ocd-division/country:us/state:il/county:cook",
    "booking_number": "B-1",
    "booked_at": "2017-08-16T23:30:00-05:00",  # already the 17th in UTC: the agency's own day counts
    "person": {"last_name": "Doe", "first_name": "Jo", "date_of_birth": "1990-01-01"},
    "charges": [{"offense": "theft", "level": "misdemeanor", "date": "2017-08-16"}],
}


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            {"charges": [{"offense": "theft", "level": "misdemeanor", "date": "2017-08-17"}]},
            "charges[0].date 2017-08-17",
        ),
        (
            {"convictions": [{"offense": "burglary", "level": "felony", "date": "2030-01-01"}]},
            "convictions[0].date 2030-01-01 is after the booking on 2017-08-16",
        ),
        (
            {
                "convictions": [
                    {"offense": "burglary", "level": "felony", "date": "2012-01-01", "released_on": "2011-01-01"}
                ]
            },
            "released_on 2011-01-01 is before its date 2012-01-01",
        ),
    ],
)
def test_a_date_after_the_booking_or_a_release_before_its_conviction_is_refused(
    change: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_input(BookingIn, {**BOOKING, **change})
    assert refusal in str(refused.value.detail)


def test_the_booking_day_itself_is_possible() -> None:
    booked = parse_input(BookingIn, BOOKING)
    assert booked.charges[0].date.isoformat() == "2017-08-16"


def test_identifier_types_differing_only_in_case_are_refused() -> None:
    """Found by a review: types are stored in lower case, and 'FBI' and 'fbi' kept one value of two."""
    person = {**BOOKING["person"], "identifiers": {"FBI": "F123", "fbi": "OTHER9"}}
    with pytest.raises(InvalidInput) as refused:
        parse_input(BookingIn, {**BOOKING, "person": person})
    assert refused.value.detail == (
        "person.identifiers: 'FBI' and 'fbi' are one identifier type (its letter case is not kept); keep one"
    )
