"""The agencies' policy labels, as the report groups bookings by them."""

from __future__ import annotations

from datetime import date

from custody.sim.agencies import Agency, policy_changes
from tests.sim.conftest import COOK, TEXAS_COUNTY


def test_a_label_names_each_day_within_the_run_on_which_it_changes() -> None:
    """Texas SB 4 took effect on 1 Sep 2017 under an injunction the library marks not encoded, and
    the Fifth Circuit's stay let it be enforced from 26 Sep (found by a review: a run across them
    showed the label of its first day throughout)."""
    texas = Agency(TEXAS_COUNTY, "jail", "tx", 365.0, False)
    assert policy_changes(texas, date(2017, 8, 31), date(2017, 10, 31)) == [
        (date(2017, 9, 1), "holds left to the agency", "law not encoded (undetermined)"),
        (date(2017, 9, 26), "law not encoded (undetermined)", "holds required"),
    ]
    assert policy_changes(texas, date(2017, 9, 1), date(2017, 9, 25)) == []  # a change on the first day is no change
    assert policy_changes(Agency(COOK, "jail", "il", 0.0, True), date(2019, 10, 1), date(2020, 10, 1)) == []
