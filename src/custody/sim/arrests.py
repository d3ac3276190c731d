"""The synthetic arrest stream: who is arrested where and when, on what charges, and every chance
the process will later need (length of stay, the federal side's request, the agency's choices where
the law leaves one, whether federal officers come), drawn once per arrest from the seed.

Drawing everything up front from a seed keyed by (day, agency, arrest) is what lets a reform replay
exactly the same arrests: the same person meets the same federal request and the same officers in
both runs, and only what the law allows differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from custody.booking.model import ReleaseReason
from custody.domain.divisions import local_zone, parse_division
from custody.sim import calibration as cal
from custody.sim.agencies import Agency, detainer_form

LAST_NAMES = ("Garcia", "Smith", "Johnson", "Rodriguez", "Lee", "Brown", "Nguyen", "Martinez", "Davis", "Lopez")
FIRST_NAMES = ("Luis", "James", "Maria", "John", "Ana", "David", "Wei", "Jose", "Linda", "Omar")
RELEASE_REASONS = (
    ReleaseReason.bail,
    ReleaseReason.own_recognizance,
    ReleaseReason.dismissal,
    ReleaseReason.sentence_served,
)
# Drawn at the shares of Pierce County's releases (calibration.RELEASE_*_SHARE).
RELEASE_REASON_RATES = (
    cal.RELEASE_BAIL_SHARE,
    cal.RELEASE_OWN_RECOGNIZANCE_SHARE,
    cal.RELEASE_DISMISSAL_SHARE,
    cal.RELEASE_SENTENCE_SERVED_SHARE,
)


@dataclass(frozen=True)
class Person:
    key: str  # the FBI number the booking desk records; stable across re-arrests
    last_name: str
    first_name: str
    date_of_birth: date
    federal_record: bool
    prior_felony_on: date | None
    gang_database: bool


@dataclass(frozen=True)
class RequestPlan:
    form: str
    warrant: str
    after: timedelta  # from booking


@dataclass(frozen=True)
class Arrest:
    person: Person
    agency: Agency
    number: str
    at: datetime
    felony: bool
    violent: bool
    offense: str
    outstanding_warrant: bool
    stay: timedelta
    reason: ReleaseReason
    request: RequestPlan | None
    honor: dict[str, float]  # a uniform draw per action; honored where the law permits and draw < share
    pickup: bool
    pickup_fraction: float  # how far into the hold federal officers arrive
    present_at_release: bool
    rearrest_after: timedelta
    generation: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return local_zone(parse_division(self.agency.division))


def adult_age(rng: np.random.Generator) -> int:
    """An adult's age (calibration.AGE_GAMMA_SHAPE, AGE_GAMMA_SCALE, OLDEST_AGE: assumptions)."""
    drawn = 18 + rng.gamma(cal.AGE_GAMMA_SHAPE.value, cal.AGE_GAMMA_SCALE.value)
    return min(int(drawn), int(cal.OLDEST_AGE.value))


def charge_class(felony: bool, violent: bool) -> str:
    """The class of a charge, as calibration.OFFENSES names it."""
    return f"{'violent' if violent else 'other'} {'felony' if felony else 'misdemeanor'}"


def offense(rng: np.random.Generator, felony: bool, violent: bool) -> str:
    """An offense of the charge's class, drawn uniformly (calibration.OFFENSES)."""
    offenses = cal.OFFENSES.value[charge_class(felony, violent)]
    return offenses[int(rng.integers(len(offenses)))]


class ArrestStream:
    """The arrests of a set of agencies, day by day, from one seed."""

    def __init__(self, agencies: list[Agency], seed: int, start: date) -> None:
        self.agencies = agencies
        self.seed = seed
        self.start = start
        self.sigma = cal.stay_sigma()
        self.mu = math.log(cal.MEDIAN_STAY_DAYS.value)
        self.hazard = cal.rearrest_daily_hazard()
        self.request_share = cal.request_given_hit()

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def day(self, offset: int) -> list[Arrest]:
        """Every first arrest of day ``offset`` (0 = the start date), in time order."""
        arrests = []
        day = self.start + timedelta(days=offset)
        for index, agency in enumerate(self.agencies):
            if agency.per_day <= 0:
                continue
            rng = self._rng(offset, index)
            for k in range(int(rng.poisson(agency.per_day))):
                person = self._person(rng, f"S{self.seed}-{offset}-{index}-{k}", day)
                arrests.append(self._arrest(rng, person, agency, day, f"{offset}-{index}-{k}", 0))
        return sorted(arrests, key=lambda a: (a.at, a.number))

    def rearrest(self, previous: Arrest, released_at: datetime, until: datetime) -> Arrest | None:
        """The same person arrested again at the same agency, ``previous.rearrest_after`` after release;
        None when that comes after ``until`` (the end of the simulation)."""
        at = released_at + previous.rearrest_after
        if at > until:
            return None
        generation = previous.generation + 1
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, hash_key(previous.person.key), generation]))
        local = at.astimezone(previous.zone)
        return self._arrest(
            rng,
            previous.person,
            previous.agency,
            local.date(),
            f"{previous.person.key.removeprefix(f'S{self.seed}-')}-r{generation}",  # the run's prefix once
            generation,
            local,
        )

    def _person(self, rng: np.random.Generator, key: str, day: date) -> Person:
        age = adult_age(rng)
        prior = rng.random() < cal.PRIOR_FELONY_SHARE.value
        return Person(
            key=key,
            last_name=LAST_NAMES[int(rng.integers(len(LAST_NAMES)))],
            first_name=FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
            date_of_birth=date(day.year - age, int(rng.integers(1, 13)), int(rng.integers(1, 29))),
            federal_record=bool(rng.random() < cal.FEDERAL_RECORD_SHARE.value),
            prior_felony_on=day - timedelta(days=int(rng.integers(200, 20 * 365))) if prior else None,
            gang_database=bool(rng.random() < cal.GANG_DATABASE_SHARE.value),
        )

    def _arrest(
        self,
        rng: np.random.Generator,
        person: Person,
        agency: Agency,
        day: date,
        number: str,
        generation: int,
        at: datetime | None = None,
    ) -> Arrest:
        zone = local_zone(parse_division(agency.division))
        if at is None:
            at = datetime.combine(day, time(0), tzinfo=zone) + timedelta(seconds=int(rng.integers(86_400)))
        felony = bool(rng.random() < cal.FELONY_CHARGE_SHARE.value)
        violent = bool(rng.random() < cal.VIOLENT_CHARGE_SHARE.value)
        charged = offense(rng, felony, violent)
        stay_days = float(rng.lognormal(self.mu, self.sigma))
        request = None
        draw = rng.random()
        if person.federal_record and draw < self.request_share:
            form = detainer_form(at.astimezone(zone).date())
            warrant = "none"
            if form == "I-247A":
                warrant = "I-205" if rng.random() < cal.I205_SHARE.value else "I-200"
            after = timedelta(hours=float(rng.exponential(cal.REQUEST_DELAY_HOURS.value)))
            request = RequestPlan(form, warrant, after)
        shares = [rate.value for rate in RELEASE_REASON_RATES]
        reasons = rng.choice(len(RELEASE_REASONS), p=[share / sum(shares) for share in shares])
        return Arrest(
            person=person,
            agency=agency,
            number=f"S{self.seed}-{number}",
            at=at,
            felony=felony,
            violent=violent,
            offense=charged,
            outstanding_warrant=bool(rng.random() < cal.OUTSTANDING_WARRANT_SHARE.value),
            stay=timedelta(days=min(stay_days, 3 * 365)),
            reason=RELEASE_REASONS[int(reasons)],
            request=request,
            honor={a: float(rng.random()) for a in ("hold", "notify", "transfer")},
            pickup=bool(rng.random() < cal.PICKUP_DURING_HOLD_SHARE.value),
            pickup_fraction=float(rng.uniform(0.05, 0.95)),
            present_at_release=bool(rng.random() < cal.PRESENT_AT_RELEASE_SHARE.value),
            rearrest_after=timedelta(days=float(rng.exponential(1 / self.hazard))),
            generation=generation,
        )


def hash_key(text: str) -> int:
    """A stable integer for a string (Python's hash() changes between processes)."""
    value = 0
    for char in text.encode():
        value = (value * 131 + char) % (2**61 - 1)
    return value
