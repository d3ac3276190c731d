from __future__ import annotations

import pytest

from custody.identity.prints.evaluation import error_rates


def test_perfect_separation_has_no_errors() -> None:
    rates = error_rates([50.0, 60.0, 70.0], [1.0, 2.0, 3.0])
    assert rates.eer == 0 and rates.zero_fmr == 0 and rates.fnmr_at_fmr_01 == 0


def test_overlap_gives_the_fvc_crossing_rate() -> None:
    # one impostor (6) ties one genuine (6) and beats another (5): at threshold 6 FNMR = FMR = 0.2
    rates = error_rates([5.0, 6.0, 7.0, 8.0, 9.0], [1.0, 2.0, 3.0, 4.0, 6.0])
    assert rates.eer == pytest.approx(0.2)
    assert rates.zero_fmr == pytest.approx(0.4)  # only a threshold above 6 keeps every impostor out
    assert rates.fnmr_at_fmr_1 == pytest.approx(0.4)


def test_unscored_pairs_count_as_non_matches() -> None:
    assert error_rates([None, 10.0], [1.0]).zero_fmr == pytest.approx(0.5)
    assert error_rates([10.0], [None, 1.0]).eer == 0
