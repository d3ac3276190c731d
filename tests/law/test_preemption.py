"""A state rule that preempts local limits voids a county's prohibition of the same action, and only
of that action, only while the state rule is in force (Texas SB 4 and Florida SB 168 are written so)."""

from __future__ import annotations

from typing import Any

import pytest

from custody.law.loader import load_library
from tests.law.scratch_library import add_county, decided, instrument, write_library

COUNTY = "ocd-division/country:us/state:tx/county:x"
STATE_LAW = instrument(
    "state-preemption",
    "State Code 9",
    "2017-09-01",
    "No local policy may limit honoring a detainer.",
    "hold",
    "preempts_local_limits",
)
COUNTY_LAW = instrument(
    "county-limit",
    "County Code 1",
    "2015-01-01",
    "No hold on a detainer, and no notice of release.",
    "hold, notify",
    "prohibited",
)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("library")
    write_library(root, {"state.yaml": STATE_LAW}, state="tx")
    add_county(root, "tx", "x", {"ordinance.yaml": COUNTY_LAW})
    return load_library(root)


def test_the_county_limit_holds_before_the_state_act(library: Any) -> None:
    actions = decided(library, COUNTY, "2017-08-31")
    assert actions["hold"]["status"] == "prohibited"
    assert actions["hold"]["citations"][0] == "County Code 1(a)"


def test_the_state_act_voids_the_county_limit_on_the_action_it_names(library: Any) -> None:
    actions = decided(library, COUNTY, "2017-09-01")
    assert actions["hold"]["status"] == "permitted"
    assert "County Code 1(a) is preempted by State Code 9(a)" in actions["hold"]["explanation"]


def test_the_state_act_leaves_the_county_limit_on_other_actions(library: Any) -> None:
    actions = decided(library, COUNTY, "2017-09-01")
    assert actions["notify"]["status"] == "prohibited"
    assert actions["notify"]["citations"][0] == "County Code 1(a)"
