"""The synthetic arrests: what the generator draws must be something booking accepts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from custody.sim import calibration as cal
from custody.sim.agencies import Agency
from custody.sim.arrests import ArrestStream, adult_age, charge_class
from tests.sim.conftest import MIAMI_DADE


class FarTail:
    """A generator whose gamma draw is from the far tail (about 1 in 80,000 draws reaches 130 years)."""

    def gamma(self, shape: float, scale: float) -> float:
        return 500.0


def test_an_age_from_the_far_tail_is_capped_below_what_booking_refuses() -> None:
    assert adult_age(FarTail()) == cal.OLDEST_AGE.value  # type: ignore[arg-type]
    assert cal.OLDEST_AGE.value < 130


def test_ages_are_adults_and_mostly_young() -> None:
    rng = np.random.default_rng(7)
    ages = [adult_age(rng) for _ in range(20_000)]
    assert min(ages) >= 18 and max(ages) <= cal.OLDEST_AGE.value
    assert 25 <= float(np.median(ages)) <= 35


def test_a_re_arrest_is_numbered_after_the_first_with_the_run_s_prefix_once() -> None:
    stream = ArrestStream([Agency(MIAMI_DADE, "jail", "fl", 365 * 50, True)], 4, date(2019, 10, 1))
    first = stream.day(0)[0]
    again = stream.rearrest(first, first.at + first.stay, datetime(2030, 1, 1).astimezone())
    assert again is not None and first.number.startswith("S4-0-0-")
    assert again.number == f"{first.number}-r1" and again.person == first.person
    later = stream.rearrest(again, again.at + timedelta(days=30), datetime(2040, 1, 1).astimezone())
    assert later is not None and later.number == f"{first.number}-r2"


def test_charges_are_drawn_at_the_cited_felony_and_violent_shares() -> None:
    """Found by a review: the violent share was cited but unused, and a uniform pick of the offense
    tables made 42.5 % of charges violent (Pierce County: 27.1 %)."""
    stream = ArrestStream([Agency(MIAMI_DADE, "jail", "fl", 365 * 3000, True)], 4, date(2019, 10, 1))
    arrests = [a for day in range(3) for a in stream.day(day)]
    assert len(arrests) > 8000
    assert np.mean([a.violent for a in arrests]) == pytest.approx(cal.VIOLENT_CHARGE_SHARE.value, abs=0.02)
    assert np.mean([a.felony for a in arrests]) == pytest.approx(cal.FELONY_CHARGE_SHARE.value, abs=0.02)
    assert all(a.offense in cal.OFFENSES.value[charge_class(a.felony, a.violent)] for a in arrests)
