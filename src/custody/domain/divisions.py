"""Open Civic Data division ids for the governments that run custodial agencies.

Which law binds an agency depends on the government that runs it: federal law and the state's
law bind every agency in the state; a county's ordinances bind the county's own agencies (the
sheriff's jail); a city's ordinances bind the city's agencies (the police lockup). A city agency
is not bound by its county's ordinance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from custody.domain.errors import InvalidInput

# USPS codes of the states, the District of Columbia and the territories: the only state-level
# divisions custody accepts. A division under any other code is refused as unknown.
US_STATES = frozenset(
    [
        "al",
        "ak",
        "az",
        "ar",
        "ca",
        "co",
        "ct",
        "de",
        "dc",
        "fl",
        "ga",
        "hi",
        "id",
        "il",
        "in",
        "ia",
        "ks",
        "ky",
        "la",
        "me",
        "md",
        "ma",
        "mi",
        "mn",
        "ms",
        "mo",
        "mt",
        "ne",
        "nv",
        "nh",
        "nj",
        "nm",
        "ny",
        "nc",
        "nd",
        "oh",
        "ok",
        "or",
        "pa",
        "ri",
        "sc",
        "sd",
        "tn",
        "tx",
        "ut",
        "vt",
        "va",
        "wa",
        "wv",
        "wi",
        "wy",
        "as",
        "gu",
        "mp",
        "pr",
        "vi",
    ]
)

_PATTERN = re.compile(r"^ocd-division/country:us(/[a-z_]+:[a-z0-9_.~-]+)*$")


class Level(StrEnum):
    federal = "federal"
    state = "state"
    county = "county"
    place = "place"


@dataclass(frozen=True, order=True)
class Division:
    """A US division: the country, a state, or a county or place within a state."""

    state: str | None = None
    county: str | None = None
    place: str | None = None

    @property
    def level(self) -> Level:
        if self.place:
            return Level.place
        if self.county:
            return Level.county
        if self.state:
            return Level.state
        return Level.federal

    @property
    def id(self) -> str:
        parts = ["ocd-division/country:us"]
        if self.state:
            parts.append(f"state:{self.state}")
        if self.county:
            parts.append(f"county:{self.county}")
        if self.place:
            parts.append(f"place:{self.place}")
        return "/".join(parts)

    def layers(self) -> list[Division]:
        """The governments whose law binds an agency run by this division, outermost first."""
        layers = [Division()]
        if self.state:
            layers.append(Division(self.state))
        if self.level in (Level.county, Level.place):
            layers.append(self)
        return layers

    def __str__(self) -> str:
        return self.id


@lru_cache(maxsize=4096)
def parse_division(text: str) -> Division:
    """Parse an OCD id naming the country, a state, or a county or place of a state.

    Anything else (a ward, a district, a place inside a county path, an unknown state) is refused,
    because custody could not tell which law binds an agency there.
    """
    # fullmatch: with match, "$" also matched before a final newline, so "…/county:cook\n" was taken
    # for a county named "cook\n", with no law.
    if not isinstance(text, str) or not _PATTERN.fullmatch(text):
        raise InvalidInput(
            f"{text!r} is not an Open Civic Data division id; use e.g. ocd-division/country:us/state:il/county:cook"
        )
    segments = [s.split(":", 1) for s in text.split("/")[2:]]
    kinds = [k for k, _ in segments]
    values = dict(segments)
    if kinds not in ([], ["state"], ["state", "county"], ["state", "place"]):
        raise InvalidInput(
            f"'{text}' is not a US state, county or place division; custody knows agencies run by a "
            "state (…/state:XX), a county (…/state:XX/county:NAME) or a place (…/state:XX/place:NAME)"
        )
    state = values.get("state")
    if state is not None and state not in US_STATES:
        raise InvalidInput(f"unknown state '{state}' in division '{text}'; use a two-letter USPS code")
    return Division(state=state, county=values.get("county"), place=values.get("place"))


# The time zone in which each state's agencies keep their dates (the most populous zone where a
# state spans two): the decision date of a request is its local calendar day there.
STATE_TIMEZONES = {
    **dict.fromkeys(
        [
            "ct",
            "de",
            "dc",
            "fl",
            "ga",
            "in",
            "ky",
            "me",
            "md",
            "ma",
            "mi",
            "nh",
            "nj",
            "ny",
            "nc",
            "oh",
            "pa",
            "ri",
            "sc",
            "vt",
            "va",
            "wv",
        ],
        "America/New_York",
    ),
    **dict.fromkeys(
        ["al", "ar", "il", "ia", "ks", "la", "mn", "ms", "mo", "ne", "nd", "ok", "sd", "tn", "tx", "wi"],
        "America/Chicago",
    ),
    **dict.fromkeys(["co", "id", "mt", "nm", "ut", "wy"], "America/Denver"),
    "az": "America/Phoenix",
    **dict.fromkeys(["ca", "nv", "or", "wa"], "America/Los_Angeles"),
    "ak": "America/Anchorage",
    "hi": "Pacific/Honolulu",
    "pr": "America/Puerto_Rico",
    "vi": "America/St_Thomas",
    "gu": "Pacific/Guam",
    "mp": "Pacific/Saipan",
    "as": "Pacific/Pago_Pago",
}


@lru_cache(maxsize=4096)
def local_zone(division: Division) -> ZoneInfo:
    """The agency's own time zone: its place's or county's where that differs from its state's main
    zone (El Paso keeps Mountain time, Pensacola Central, Knoxville Eastern; zones.yaml cites the
    sources of each), else the state's."""
    own = _own_zones()
    state = division.state or ""
    for level, slug in (("place", division.place), ("county", division.county)):
        if slug and (zone := own.get((state, level, _key(slug)))):
            return ZoneInfo(zone)
    return ZoneInfo(STATE_TIMEZONES.get(state, "UTC"))


def local_moment(moment: datetime, division_id: str) -> str:
    """A moment as a refusal names it: ISO 8601 at the agency's own offset ("2030-01-01T10:00:00-06:00"),
    which the officer's clock and the forms show, not UTC (found by reviews: "15:00:00+00:00" on a
    page whose times all read 10:00 CST)."""
    return moment.astimezone(local_zone(parse_division(division_id))).isoformat()


def _key(slug: str) -> str:
    """Slugs compared by letters and digits only: "la_porte", "laporte" and "st._joseph", "st_joseph"
    name the same county in the ids people write."""
    return re.sub(r"[^a-z0-9]", "", slug)


@cache
def _own_zones() -> dict[tuple[str, str, str], str]:
    data = yaml.safe_load((Path(__file__).parent / "zones.yaml").read_text(encoding="utf-8"))
    zones: dict[tuple[str, str, str], str] = {}
    sections = (("county", "counties"), ("county", "main_zone_counties_with_distinct_tz"), ("place", "places"))
    for level, section in sections:
        for entry in data[section]:
            if entry.get("verified", True):
                zones[(entry["state"], level, _key(entry[level]))] = entry["zone"]
    return zones
