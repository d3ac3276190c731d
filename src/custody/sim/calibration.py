"""The rates the simulator draws from, each with its source and how sure it is.

Tags follow the domain reference (``../shared/domain/process-and-law.md``): **[V]** the figure was
seen in the source named; **[M]** recalled or secondary, not checked against the source;
**[A]** a modelling assumption with no source, chosen to keep the process plausible; change it
with care and read results that turn on it as "what the process does under this assumption".
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    value: float
    tag: str  # "V", "M" or "A"
    source: str

    def __float__(self) -> float:
        return self.value


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

ALL_RATES: dict[str, Rate] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Rate) and name.isupper()
}


def digest() -> str:
    """The rates in force now, in one short hash: a resumed simulation must run on the rates it
    started with (read at the call, so a rate a test or a deployment changed counts)."""
    rates = sorted((name, v.value) for name, v in globals().items() if isinstance(v, Rate) and name.isupper())
    return hashlib.sha256(repr(rates).encode()).hexdigest()[:16]
