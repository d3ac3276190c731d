"""A state rule that preempts local limits voids a county's prohibition of the same action, and only
of that action, only while the state rule is in force (Texas SB 4 and Florida SB 168 are written so)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custody.law.engine import decide
from custody.law.loader import load_library
from tests.law.scratch_library import I_247A, write_library

STATE_LAW = """
instrument:
  id: state-preemption
  name: State preemption act
  citation: State Code 9
  url: https://example.org/state
  effective_from: 2017-09-01
rules:
  - id: state-9-a
    citation: State Code 9(a)
    says: No local policy may limit honoring a detainer.
    actions: [hold]
    effect: preempts_local_limits
"""

COUNTY_LAW = """
instrument:
  id: county-limit
  name: County detainer ordinance
  citation: County Code 1
  url: https://example.org/county
  effective_from: 2015-01-01
rules:
  - id: county-1-a
    citation: County Code 1(a)
    says: No hold on a detainer, and no notice of release.
    actions: [hold, notify]
    effect: prohibited
"""

FEDERAL_LAW = """
instrument:
  id: federal-detainers
  name: Federal detainer regulation
  citation: Fed. Reg. 1
  url: https://example.org/federal
  effective_from: 2000-01-01
rules:
  - id: federal-1
    citation: Fed. Reg. 1(a)
    says: An agency may honor a detainer.
    actions: [hold, notify]
    effect: permitted
"""

COUNTY = "ocd-division/country:us/state:tx/county:x"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("library")
    write_library(root, {"state.yaml": STATE_LAW}, state="tx")
    county = Path(root) / "ocd-division" / "country:us" / "state:tx" / "county:x"
    county.mkdir()
    (county / "jurisdiction.yaml").write_text(f"division: {COUNTY}\nname: X County\n")
    (county / "ordinance.yaml").write_text(COUNTY_LAW)
    (Path(root) / "ocd-division" / "country:us" / "forms.yaml").write_text(I_247A)
    (Path(root) / "ocd-division" / "country:us" / "federal.yaml").write_text(FEDERAL_LAW)
    return load_library(root)


def _decide(library: Any, on: str) -> dict[str, Any]:
    doc = {
        "agency": COUNTY,
        "on": on,
        "request": {"form": "I-247A", "actions": ["hold", "notify"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
    }
    return decide(doc, library).to_contract()["actions"]


def test_the_county_limit_holds_before_the_state_act(library: Any) -> None:
    actions = _decide(library, "2017-08-31")
    assert actions["hold"]["status"] == "prohibited"
    assert actions["hold"]["citations"][0] == "County Code 1(a)"


def test_the_state_act_voids_the_county_limit_on_the_action_it_names(library: Any) -> None:
    actions = _decide(library, "2017-09-01")
    assert actions["hold"]["status"] == "permitted"
    assert "County Code 1(a) is preempted by State Code 9(a)" in actions["hold"]["explanation"]


def test_the_state_act_leaves_the_county_limit_on_other_actions(library: Any) -> None:
    actions = _decide(library, "2017-09-01")
    assert actions["notify"]["status"] == "prohibited"
    assert actions["notify"]["citations"][0] == "County Code 1(a)"
