"""What the booking desk submits."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from custody.domain.divisions import local_zone, parse_division
from custody.domain.inputs import AwareTime, OffenseIn, Strict


def agency_division(value: str) -> str:
    division = parse_division(value)
    if division.level.value not in ("county", "place", "state"):
        raise ValueError("name the state, county or place whose government runs the agency")
    return division.id


class PersonIn(Strict):
    last_name: str = Field(min_length=1)
    first_name: str = Field(min_length=1)
    middle_name: str | None = None
    date_of_birth: date
    aliases: list[str] = Field(default_factory=list)
    address: str | None = Field(
        None, max_length=300, description="Home address: non-public; shared with the federal side only where law allows"
    )
    identifiers: dict[str, str] = Field(
        default_factory=dict,
        description="Identifier type to value, e.g. {'fbi': '123456AB1', 'sid': 'IL1234567'}",
    )
    outstanding_criminal_warrant: bool = False
    gang_database: bool = False
    registered_sex_offender: bool = False
    watchlist_match: bool = False
    prior_removal_and_reentry: bool = False
    final_removal_order: bool = False

    @field_validator("identifiers")
    @classmethod
    def _identifier_keys(cls, value: dict[str, str]) -> dict[str, str]:
        """Types are kept in lower case, so two differing only in case would keep one value of the
        two without a word (found by a review)."""
        kept: dict[str, str] = {}
        for key, item in value.items():
            if not key.isidentifier() or not item.strip():
                raise ValueError(f"identifier '{key}' needs a short type name and a value")
            if key.lower() in kept:
                first = next(k for k in value if k.lower() == key.lower())
                raise ValueError(
                    f"'{first}' and '{key}' are one identifier type (its letter case is not kept); keep one"
                )
            kept[key.lower()] = item.strip()
        return kept


AgencyKind = Literal["jail", "police", "prison"]


class BookingIn(Strict):
    agency: str = Field(description="OCD division of the government running the booking agency")
    agency_kind: AgencyKind | None = None
    booking_number: str = Field(min_length=1, max_length=64)
    booked_at: AwareTime
    person: PersonIn
    charges: list[OffenseIn] = Field(min_length=1)
    convictions: list[OffenseIn] = Field(default_factory=list, description="Prior convictions on record")

    _agency = field_validator("agency")(agency_division)

    @model_validator(mode="after")
    def _nothing_after_the_booking(self) -> BookingIn:
        """A charge, conviction or release dated after the booking's own day (the agency's local
        date) cannot be on record yet; the law decision would otherwise count it."""
        booked_on = self.booked_at.astimezone(local_zone(parse_division(self.agency))).date()
        for group, offenses in (("charges", self.charges), ("convictions", self.convictions)):
            for index, offense in enumerate(offenses):
                for name in ("date", "released_on"):
                    when = getattr(offense, name)
                    if when is not None and when > booked_on:
                        raise ValueError(f"{group}[{index}].{name} {when} is after the booking on {booked_on}")
        return self


class MoveIn(Strict):
    to_agency: str
    agency_kind: AgencyKind | None = None
    at: AwareTime

    _agency = field_validator("to_agency")(agency_division)


class ScheduleIn(Strict):
    planned_at: AwareTime
    at: AwareTime | None = None
