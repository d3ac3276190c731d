"""A small simulated nation for fast tests: two agencies with real law and a request rate high
enough that a couple of simulated days carry requests through every branch of the process."""

from __future__ import annotations

import pytest

from custody.sim import agencies, calibration
from custody.sim.agencies import Agency

MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"
COOK = "ocd-division/country:us/state:il/county:cook"
CHICAGO = "ocd-division/country:us/state:il/place:chicago"
TEXAS_COUNTY = "ocd-division/country:us/state:tx/county:sim-0001"


@pytest.fixture
def small_nation(monkeypatch: pytest.MonkeyPatch) -> list[Agency]:
    nation = [
        Agency(MIAMI_DADE, "jail", "fl", 7 * 365, True),
        Agency(CHICAGO, "police", "il", 5 * 365, True),
        Agency(COOK, "jail", "il", 0.0, True),
        Agency(TEXAS_COUNTY, "jail", "tx", 3 * 365, False),
    ]
    monkeypatch.setattr(agencies, "national", lambda seed, library=None: list(nation))
    # Many more people with a federal record, and a request after most hits, than in the nation.
    monkeypatch.setattr(calibration, "FEDERAL_RECORD_SHARE", calibration.Rate(0.5, "A", "test"))
    monkeypatch.setattr(
        calibration, "DETAINERS_PER_YEAR", calibration.Rate(0.4 * calibration.ADMISSIONS_PER_YEAR.value, "A", "test")
    )
    return nation
