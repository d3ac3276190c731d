"""A jail's own time zone: the county's or place's where it differs from its state's main zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from custody.domain import divisions
from custody.domain.divisions import _PATTERN as DIVISION_PATTERN
from custody.domain.divisions import local_zone, parse_division
from custody.law.model import HoldClock
from custody.release.clock import hold_expires_at

US = "ocd-division/country:us"


@pytest.mark.parametrize(
    ("division", "zone"),
    [
        ("state:tx/county:el_paso", "America/Denver"),  # 49 CFR 71.7; tz "far western Texas (El Paso County)"
        ("state:tx/place:el_paso", "America/Denver"),
        ("state:tx/county:harris", "America/Chicago"),  # the state's main zone
        ("state:tn/county:knox", "America/New_York"),  # East Tennessee
        ("state:tn/county:shelby", "America/Chicago"),
        ("state:fl/county:escambia", "America/Chicago"),  # the panhandle west of the Apalachicola
        ("state:fl/county:miami-dade", "America/New_York"),
        ("state:in/county:la_porte", "America/Chicago"),  # OCD writes "laporte": compared by letters
        ("state:in/county:laporte", "America/Chicago"),
        ("state:mi/county:gogebic", "America/Menominee"),  # 49 CFR 71.5(a)
        ("state:nd/county:mercer", "America/North_Dakota/Beulah"),  # Mountain until 7 Nov 2010
        ("state:id/county:kootenai", "America/Los_Angeles"),
        ("state:id/county:ada", "America/Denver"),
    ],
)
def test_a_jail_counts_days_in_its_own_zone(division: str, zone: str) -> None:
    assert local_zone(parse_division(f"{US}/{division}")) == ZoneInfo(zone)


def test_an_el_paso_hold_excluding_the_weekend_ends_on_friday_night_not_sunday() -> None:
    """A pre-2015 I-247 hold from Wednesday 4 June 2014, 11:15 p.m. in El Paso: 48 working hours end
    on Friday at 11:15 p.m. Mountain time. Counted in Central time, Wednesday's last 45 minutes fell on
    Thursday, and the hold ran into Saturday and past the weekend, to Sunday night."""
    mountain = ZoneInfo("America/Denver")
    eligible = datetime(2014, 6, 4, 23, 15, tzinfo=mountain)
    zone = local_zone(parse_division(f"{US}/state:tx/county:el_paso"))
    expires = hold_expires_at(eligible, 48, HoldClock.excluding_weekends_and_holidays, zone)
    assert expires.astimezone(mountain) == datetime(2014, 6, 6, 23, 15, tzinfo=mountain)


def test_every_zone_in_the_file_loads_and_every_slug_is_a_division_slug() -> None:
    data = yaml.safe_load((divisions.Path(divisions.__file__).parent / "zones.yaml").read_text())
    sources = {s["id"] for s in data["sources"]}
    for section, level in (
        ("counties", "county"),
        ("main_zone_counties_with_distinct_tz", "county"),
        ("places", "place"),
    ):
        for entry in data[section]:
            ZoneInfo(entry["zone"])
            assert DIVISION_PATTERN.match(f"{US}/state:{entry['state']}/{level}:{entry[level]}"), entry
            if level == "county":
                cited = {part.strip() for part in entry["source"].split(";")}
                assert cited & sources, entry  # every county row names a source the file describes
