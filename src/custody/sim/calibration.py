"""The rates the simulator draws from, each with its source and how sure it is.

Tags follow the domain reference (``../shared/domain/process-and-law.md``): **[V]** the figure was
seen in the source named; **[M]** recalled or secondary, not checked against the source;
**[A]** a modelling assumption with no source, chosen to keep the process plausible; change it
with care and read results that turn on it as "what the process does under this assumption".
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    value: float
    tag: str  # "V", "M" or "A"
    source: str

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class Table:
    """A table the simulator draws from rather than one number, with its source and how sure it is."""

    value: Mapping[str, tuple[str, ...]]
    tag: str
    source: str


# --- volume -----------------------------------------------------------------------------------

ADMISSIONS_PER_YEAR = Rate(
    10_300_000,
    "V",
    "BJS, Jail Inmates in 2019 (NCJ 255608): 10.3 million admissions to local jails in 2019 (domain reference §4)",
)
JAIL_AGENCIES = Rate(
    3_000,
    "M",
    "issue 8: 'some 3,000 jail agencies'; BJS's Census of Jails counts about 2,850 jail jurisdictions",
)
AGENCY_SIZE_EXPONENT = Rate(
    0.6,
    "A",
    "Zipf exponent of admissions by agency rank: chosen so the largest of 3,000 agencies books about "
    "1.5% of the nation (≈160k a year, the order of the largest county jails); no source",
)
LIBRARY_TOP_RANKS = Rate(
    40,
    "A",
    "the law library's jurisdictions with no admissions figure below take ranks drawn at random among the "
    "40 largest agencies (they are big-city jails), so the seed decides how many each books; no source",
)
SANTA_CLARA_ADMISSIONS = Rate(
    39_399,
    "V",
    "California BSCC Jail Profile Survey: 39,399 persons booked by the Santa Clara Sheriff's Office in 2019 "
    "(total_num_persons_booked, January to December 2019, "
    "shared/data/jails/california_bscc_jps_county_monthly_1995_2020_subset.csv)",
)
# The library's jurisdictions whose admissions a public source gives: they book that many, whatever the seed.
KNOWN_ADMISSIONS = {"ocd-division/country:us/state:ca/county:santa_clara": SANTA_CLARA_ADMISSIONS}
MOVE_AFTER_HOURS = Rate(
    8,
    "A",
    "hours after booking at which a police lockup passes its arrestee to the county jail (Chicago's to the "
    "Cook County jail, domain reference §1.1 [M]); the delay has no source",
)

# --- length of stay ---------------------------------------------------------------------------

AVERAGE_STAY_DAYS = Rate(
    26.0,
    "V",
    "BJS, Jail Inmates in 2017 (NCJ 251774): average stay 26 days (domain reference §4)",
)
MEDIAN_STAY_DAYS = Rate(
    3.19,
    "V",
    "Pierce County (WA) jail bookings FY2016–2018, median time detained 3.19 days "
    "(UWCHR ice-detainers-pierce, shared/data/jail_detainers/pierce_county_descriptive_stats.csv); one county",
)


def stay_sigma() -> float:
    """Lognormal shape with the BJS mean and the Pierce County median: mean = median·exp(σ²/2)."""
    return math.sqrt(2 * math.log(AVERAGE_STAY_DAYS.value / MEDIAN_STAY_DAYS.value))


# --- the people arrested ------------------------------------------------------------------------

AGE_GAMMA_SHAPE = Rate(
    2.0,
    "A",
    "an arrestee's age is 18 plus a gamma draw of this shape and AGE_GAMMA_SCALE (mean 34, median about "
    "31): adults, mostly in their twenties and thirties; no source",
)
AGE_GAMMA_SCALE = Rate(8.0, "A", "see AGE_GAMMA_SHAPE; no source")
OLDEST_AGE = Rate(
    90, "A", "the age drawn is capped here: the gamma's far tail would reach past 130, which booking refuses"
)

# --- charges and records ----------------------------------------------------------------------

FELONY_CHARGE_SHARE = Rate(
    0.686,
    "V",
    "Pierce County (WA) jail bookings FY2016–2018: 68.6% with a felony charge "
    "(pierce_county_descriptive_stats.csv, column felony); one county",
)
VIOLENT_CHARGE_SHARE = Rate(
    0.271,
    "V",
    "Pierce County (WA) jail bookings FY2016–2018: 27.1% with a violent charge (same file, column violent)",
)
OFFENSES = Table(
    {
        "violent felony": ("aggravated battery", "robbery"),
        "other felony": ("burglary", "possession with intent"),
        "violent misdemeanor": ("simple battery",),
        "other misdemeanor": ("retail theft", "trespass", "driving on a suspended licence"),
    },
    "A",
    "the offense booked, drawn uniformly from its class once the class is drawn (FELONY_CHARGE_SHARE and "
    "VIOLENT_CHARGE_SHARE, independently, as only each on its own is published): examples, not a distribution",
)
PRIOR_FELONY_SHARE = Rate(0.30, "A", "share of arrestees with a prior felony conviction on record; no source")
GANG_DATABASE_SHARE = Rate(0.03, "A", "share listed in a gang database; no source")
OUTSTANDING_WARRANT_SHARE = Rate(0.05, "A", "share with an outstanding criminal warrant; no source")

# --- federal side -----------------------------------------------------------------------------

DETAINERS_PER_YEAR = Rate(
    165_487,
    "M",
    "ICE ERO annual report FY2019: 165,487 detainers (domain reference §4 marks the ERO totals [M]; "
    "TRAC's monthly average 13,898 through May 2019 [V] agrees in order)",
)
FEDERAL_RECORD_SHARE = Rate(
    0.05,
    "A",
    "share of arrestees whose prints hit a record in the federal immigration repository; no source",
)


def request_given_hit() -> float:
    """The chance the federal side issues a request after a hit, so that requests per admission
    equal ICE's FY2019 detainers over BJS's 2019 admissions (≈1.6%)."""
    return min(1.0, DETAINERS_PER_YEAR.value / ADMISSIONS_PER_YEAR.value / FEDERAL_RECORD_SHARE.value)


I205_SHARE = Rate(0.2, "A", "share of I-247A detainers accompanied by an I-205 rather than an I-200; no source")
REQUEST_DELAY_HOURS = Rate(
    6.0, "A", "mean hours from booking to the federal request (exponential); LESC answers around the clock"
)
PERMITTED_HONOR_SHARE = Rate(
    0.8,
    "A",
    "chance an agency honors an action the law leaves to it; TRAC found 609 agencies declined at least one "
    "detainer Feb 2017–Apr 2018 (reports/522) [V] but no national refusal rate is known",
)
PICKUP_DURING_HOLD_SHARE = Rate(
    0.75, "A", "chance federal officers come for a person held on a detainer before the hold ends; no source"
)
PRESENT_AT_RELEASE_SHARE = Rate(
    0.5,
    "A",
    "chance federal officers are at the jail at release when the agency honored notice or transfer but no hold",
)

# --- release ----------------------------------------------------------------------------------

_PIERCE_RELEASES = (
    "Pierce County (WA) jail releases FY2016–2018 by disposition (UWCHR ice-detainers-pierce, "
    "shared/data/jail_detainers/pierce_county_release_disposition_counts.csv): {what}, {n:,} of the 50,682 "
    "releases of the four kinds simulated (the other 23,946, to prison, another agency, a court order…, "
    "are not); which disposition is which kind is this project's reading [A]; one county"
)
RELEASE_BAIL_SHARE = Rate(
    11_222 / 50_682, "V", _PIERCE_RELEASES.format(what="Bail Bond, Cash Bail and Appearance Bond", n=11_222)
)
RELEASE_OWN_RECOGNIZANCE_SHARE = Rate(8_058 / 50_682, "V", _PIERCE_RELEASES.format(what="PR and PR PTS", n=8_058))
RELEASE_DISMISSAL_SHARE = Rate(
    17_997 / 50_682,
    "V",
    _PIERCE_RELEASES.format(
        what="Dismissed, Quashed, No Prob Cause, Release without charge, Medical Dismissal, a verdict of not "
        "guilty, and every 'No Charges Filed' and NCF",
        n=17_997,
    ),
)
RELEASE_SENTENCE_SERVED_SHARE = Rate(
    13_405 / 50_682,
    "V",
    _PIERCE_RELEASES.format(
        what="Time Served (weekend too), Credit for Time Served, Fine Paid, and a sentence suspended or deferred",
        n=13_405,
    ),
)

# --- after release ----------------------------------------------------------------------------

REARREST_FIRST_YEAR = Rate(
    0.439,
    "M",
    "BJS, Recidivism of Prisoners Released in 30 States in 2005 (Durose, Cooper, Snyder 2014): 43.9% "
    "arrested within one year; state prisoners, not jail releasees",
)


def rearrest_daily_hazard() -> float:
    """Constant daily hazard that gives REARREST_FIRST_YEAR within 365 days."""
    return -math.log(1 - REARREST_FIRST_YEAR.value) / 365


# --- cost -------------------------------------------------------------------------------------

JAIL_COST_PER_DAY = Rate(
    59.53,
    "V",
    "Texas Commission on Jail Standards, Immigration Detainer Reports Oct 2011–Nov 2017: $440.1M over "
    "7.39M inmate-days of people held on detainers (computed from "
    "shared/data/jail_detainers/texas_tcjs_immigration_detainer_by_county_month_2011_2017.csv, "
    "sha256 839e803d…a7dc7fa331); Texas only",
)

ALL_RATES: dict[str, Rate | Table] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Rate | Table) and name.isupper()
}


def digest() -> str:
    """The rates in force now, in one short hash: a resumed simulation must run on the rates it
    started with (read at the call, so a rate a test or a deployment changed counts)."""
    rates = sorted(
        (name, repr(v.value)) for name, v in globals().items() if isinstance(v, Rate | Table) and name.isupper()
    )
    return hashlib.sha256(repr(rates).encode()).hexdigest()[:16]


def tags() -> dict[str, int]:
    """How many rates are of each tag, for the report: how much of a run rests on assumptions."""
    counted = {"V": 0, "M": 0, "A": 0}
    for rate in ALL_RATES.values():
        counted[rate.tag] += 1
    return counted
