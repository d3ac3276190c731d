"""The synthetic arrests: what the generator draws must be something booking accepts."""

from __future__ import annotations

import numpy as np

from custody.sim.arrests import OLDEST, adult_age


class FarTail:
    """A generator whose gamma draw is from the far tail (about 1 in 80,000 draws reaches 130 years)."""

    def gamma(self, shape: float, scale: float) -> float:
        return 500.0


def test_an_age_from_the_far_tail_is_capped_below_what_booking_refuses() -> None:
    assert adult_age(FarTail()) == OLDEST  # type: ignore[arg-type]
    assert OLDEST < 130


def test_ages_are_adults_and_mostly_young() -> None:
    rng = np.random.default_rng(7)
    ages = [adult_age(rng) for _ in range(20_000)]
    assert min(ages) >= 18 and max(ages) <= OLDEST
    assert 25 <= float(np.median(ages)) <= 35
