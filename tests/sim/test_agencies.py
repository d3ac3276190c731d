"""The agencies' policy labels, as the report groups bookings by them."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from custody.sim import calibration as cal
from custody.sim.agencies import Agency, national, policy_changes
from tests.conftest import need_shared
from tests.sim.conftest import COOK, TEXAS_COUNTY

SANTA_CLARA = "ocd-division/country:us/state:ca/county:santa_clara"


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


def test_a_jurisdiction_whose_admissions_are_published_books_that_many_whatever_the_seed() -> None:
    """Found by a review: the seed placed every library jurisdiction at random among the 40 largest
    ranks, so Santa Clara booked 38,952 a year with one seed and another figure with the next."""
    for seed in (1, 2, 3):
        (santa_clara,) = [a for a in national(seed) if a.division == SANTA_CLARA]
        assert santa_clara.admissions_per_year == cal.SANTA_CLARA_ADMISSIONS.value
        assert len([a for a in national(seed) if a.admissions_per_year > 0]) == cal.JAIL_AGENCIES.value


@pytest.mark.shared
def test_the_published_figures_are_those_of_their_files() -> None:
    shared = need_shared() / "data"
    with open(shared / "jails/california_bscc_jps_county_monthly_1995_2020_subset.csv", newline="") as f:
        booked = [
            int(row["total_num_persons_booked"])
            for row in csv.DictReader(f)
            if row["jurisdiction"] == "Santa Clara Sheriff's Office" and row["year"] == "2019"
        ]
    assert len(booked) == 12 and sum(booked) == cal.SANTA_CLARA_ADMISSIONS.value
    with open(shared / "jail_detainers/pierce_county_release_disposition_counts.csv", newline="") as f:
        released = {row["index"]: int(row["release_disposition_desc"]) for row in csv.DictReader(f)}  # shifted names
    kinds = {
        cal.RELEASE_BAIL_SHARE: ("Bail Bond", "Cash Bail", "Appearance Bond"),
        cal.RELEASE_OWN_RECOGNIZANCE_SHARE: ("PR", "PR PTS"),
        cal.RELEASE_DISMISSAL_SHARE: (
            "Dismissed", "Quashed", "No Prob Cause", "Release without charge", "Medical Dismissal",
            "Not Guilty Verdict", "Not Guilty - Insanity", "No Charges Filed", "NCF Final", "NCF, Pending Inv",
            "NCF Dist", "NCF TacM", "NCF, LAKEWOOD", "NCF Sup",
        ),
        cal.RELEASE_SENTENCE_SERVED_SHARE: (
            "Time Served", "Time Served, Weekend", "Credit for Time Served", "Fine Paid", "Suspended Sentence",
            "Balance of Sentence Suspended", "Deferred Sentence",
        ),
    }  # fmt: skip
    counted = {rate: sum(released[name] for name in names) for rate, names in kinds.items()}
    assert sum(released.values()) - sum(counted.values()) == 23_946
    for rate, n in counted.items():
        assert rate.value == pytest.approx(n / sum(counted.values())) and f"{n:,} of the 50,682" in rate.source


def test_every_figure_the_simulator_draws_from_is_shown_with_its_tag() -> None:
    """Found by a review: the library's ranks, the move's delay, the release reasons, the ages and the
    offenses were outside the rates the report shows, some marked as assumptions, some not."""
    for name in ("LIBRARY_TOP_RANKS", "MOVE_AFTER_HOURS", "AGE_GAMMA_SHAPE", "OLDEST_AGE", "OFFENSES"):
        assert cal.ALL_RATES[name].tag == "A", name
    assert sum(cal.tags().values()) == len(cal.ALL_RATES)
