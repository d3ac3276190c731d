"""The agencies a simulation books at: the law library's real local jurisdictions and, around them,
synthetic county jails in every state, sized by a rank distribution calibrated to national
admissions.

Synthetic counties are named ``county:sim-NNNN`` so nobody mistakes them for real places; custody
decides their requests on federal and state law (no local instrument of theirs is in the library),
which is exactly what it would do for a real county without an encoded ordinance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from custody.domain.divisions import Level, parse_division
from custody.domain.errors import InvalidInput
from custody.law.engine import decide, law_changes
from custody.law.loader import Library, default_library
from custody.sim import calibration as cal

# Counties (and county equivalents) per state, US Census [M: recalled, not checked]; used only to
# spread the 3,000 synthetic jail agencies across states in a plausible proportion.
COUNTIES_PER_STATE = {
    "al": 67, "ak": 30, "az": 15, "ar": 75, "ca": 58, "co": 64, "ct": 8, "de": 3, "dc": 1, "fl": 67,
    "ga": 159, "hi": 5, "id": 44, "il": 102, "in": 92, "ia": 99, "ks": 105, "ky": 120, "la": 64,
    "me": 16, "md": 24, "ma": 14, "mi": 83, "mn": 87, "ms": 82, "mo": 115, "mt": 56, "ne": 93,
    "nv": 17, "nh": 10, "nj": 21, "nm": 33, "ny": 62, "nc": 100, "nd": 53, "oh": 88, "ok": 77,
    "or": 36, "pa": 67, "ri": 5, "sc": 46, "sd": 66, "tn": 95, "tx": 254, "ut": 29, "vt": 14,
    "va": 133, "wa": 39, "wv": 55, "wi": 72, "wy": 23,
}  # fmt: skip

# Where a police lockup sends the people it books: in Chicago most arrestees go on to the county
# jail, run by the Cook County Sheriff (domain reference §1.1 [M]).
COUNTY_JAIL_OF = {
    "ocd-division/country:us/state:il/place:chicago": "ocd-division/country:us/state:il/county:cook",
}


@dataclass(frozen=True)
class Agency:
    division: str
    kind: str  # jail | police
    state: str
    admissions_per_year: float
    real: bool  # a jurisdiction of the law library, not a synthetic county

    @property
    def per_day(self) -> float:
        return self.admissions_per_year / 365


def zipf_shares(n: int, exponent: float) -> list[float]:
    weights = [rank**-exponent for rank in range(1, n + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def library_agencies(library: Library) -> list[tuple[str, str]]:
    """(division, kind) of every county or city in the library; a consolidated city-county (one
    with county aliases) runs the jail itself."""
    found: dict[str, str] = {}
    for jurisdiction in library.jurisdictions.values():
        division = jurisdiction.division
        if division.level is Level.county:
            found[division.id] = "jail"
        elif division.level is Level.place:
            found[division.id] = "jail" if jurisdiction.aliases else "police"
    return sorted(found.items())


def national(seed: int, library: Library | None = None) -> list[Agency]:
    """All 3,000 agencies of the nation, sized by rank; the same seed gives the same nation."""
    library = library or default_library()
    rng = random.Random(f"agencies:{seed}")
    count = int(cal.JAIL_AGENCIES.value)
    shares = zipf_shares(count, cal.AGENCY_SIZE_EXPONENT.value)
    real = library_agencies(library)
    # Chicago's lockup passes its arrestees to the Cook County jail: they share one rank's volume.
    booking_real = [(d, k) for d, k in real if d not in COUNTY_JAIL_OF.values()]
    # Those whose admissions a source gives book that many; the others take ranks among the largest (an assumption).
    known = [(d, k) for d, k in booking_real if d in cal.KNOWN_ADMISSIONS]
    ranked = [(d, k) for d, k in booking_real if d not in cal.KNOWN_ADMISSIONS]
    top = rng.sample(range(int(cal.LIBRARY_TOP_RANKS.value)), len(ranked))
    rest = [r for r in range(count) if r not in set(top)]
    rng.shuffle(rest)
    states = [s for s, n in COUNTIES_PER_STATE.items() for _ in range(n)]
    rng.shuffle(states)
    agencies = []
    for division, kind in known:
        state = parse_division(division).state or ""
        agencies.append(Agency(division, kind, state, cal.KNOWN_ADMISSIONS[division].value, True))
    for (division, kind), rank in zip(ranked, top, strict=True):
        state = parse_division(division).state or ""
        agencies.append(Agency(division, kind, state, shares[rank] * cal.ADMISSIONS_PER_YEAR.value, True))
    for number, rank in enumerate(rest[: count - len(booking_real)], start=1):
        state = states[number % len(states)]
        division = f"ocd-division/country:us/state:{state}/county:sim-{number:04d}"
        agencies.append(Agency(division, "jail", state, shares[rank] * cal.ADMISSIONS_PER_YEAR.value, False))
    # The county jails that only receive (Cook from Chicago) book nobody themselves here.
    for division in COUNTY_JAIL_OF.values():
        state = parse_division(division).state or ""
        agencies.append(Agency(division, "jail", state, 0.0, True))
    return agencies


def select(scale: str, seed: int, sample: float | None = None) -> tuple[list[Agency], str]:
    """The agencies of ``national``, ``state:XX`` or ``division:OCD_ID``, with a note on what was
    sampled. ``sample`` keeps that share of the synthetic agencies (the library's are always kept)."""
    nation = national(seed)
    if scale == "national":
        chosen, where = nation, "the nation"
    elif scale.startswith("state:"):
        code = scale.split(":", 1)[1].lower()
        chosen = [a for a in nation if a.state == code]
        if not chosen:
            raise InvalidInput(f"--scale {scale}: no such state; use a USPS code such as state:il")
        where = f"state {code.upper()}"
    elif scale.startswith("division:"):
        wanted = parse_division(scale.split(":", 1)[1]).id
        chosen = [a for a in nation if a.division == wanted]
        chosen += [
            a for a in nation if COUNTY_JAIL_OF.get(a.division) == wanted or COUNTY_JAIL_OF.get(wanted) == a.division
        ]
        if not chosen:
            raise InvalidInput(
                f"--scale {scale}: not an agency of the simulated nation; use one of the library's "
                f"jurisdictions, e.g. division:{library_agencies(default_library())[0][0]}, or a state"
            )
        where = f"division {wanted}"
    else:
        raise InvalidInput(f"--scale {scale}: use national, state:XX or division:OCD_ID")
    total = sum(a.admissions_per_year for a in chosen)
    share = 1.0 if sample is None else sample
    if not 0 < share <= 1:
        raise InvalidInput(f"--sample {sample}: give a share between 0 (exclusive) and 1")
    if share < 1:
        rng = random.Random(f"sample:{seed}:{share}")
        chosen = [a for a in chosen if a.real or rng.random() < share]
    kept = sum(a.admissions_per_year for a in chosen)
    note = (
        f"{len(chosen)} agencies of {where}"
        + (f" (a {share:.0%} sample of synthetic agencies plus every library jurisdiction)" if share < 1 else "")
        + f", booking {kept:,.0f} a year ({kept / total:.1%} of {where}'s simulated admissions)"
    )
    return chosen, note


DETAINER_FORMS = ("I-247A", "I-247D", "I-247")


def within_library(on: date, option: str, library: Library | None = None) -> None:
    """Refuse a date before the law library begins: the engine refuses to decide any request then, so
    a run (or a reform's law) on it went on to report nothing but refusals, with exit 0 (found by a
    review)."""
    first = (library or default_library()).first_law
    if first is not None and on < first.effective_from:
        raise InvalidInput(
            f"{option}: custody's law library begins on {first.effective_from} ({first.citation}) and holds no "
            f"law for {on}; give a date from {first.effective_from} on"
        )


def detainer_form(on: date, library: Library | None = None) -> str:
    """The detainer form in use on a date (I-247A from 2 Apr 2017, I-247D before, I-247 before 2015)."""
    forms = (library or default_library()).forms
    for name in DETAINER_FORMS:
        if forms[name].in_use(on):
            return name
    raise InvalidInput(f"no detainer form was in use on {on}; simulate from 2012 on")


def reference_request(agency: Agency, on: date, library: Library | None = None) -> dict[str, Any]:
    """A plain detainer (the form in use, with an administrative warrant; a misdemeanor charge, no
    record): what the agency's law says about it is the agency's policy label in reports."""
    library = library or default_library()
    form = detainer_form(on, library)
    return {
        "agency": agency.division,
        "on": on.isoformat(),
        "agency_kind": agency.kind,
        "request": {
            "form": form,
            "actions": ["hold", "notify", "transfer"],
            "warrant": "administrative",
            "issued_on": on.isoformat(),
        },
        "person": {
            "age": 30,
            "convictions": [],
            "pending_charges": [{"offense": "retail theft", "level": "misdemeanor"}],
            "juvenile": False,
        },
        "custody": {"status": "pretrial"},
    }


def policy_label(agency: Agency, on: date, law_of: str | None = None, law_on: date | None = None) -> str:
    """The agency's policy in words, from the law library: what its law says of a plain detainer hold."""
    document = reference_request(agency, law_on or on)
    if law_of is not None:
        document["agency"] = law_of
    try:
        decision = decide(document)
    except InvalidInput as exc:
        return f"undecidable ({exc.detail})"
    status = decision.actions[next(iter(decision.actions))].status.value
    return {
        "required": "holds required",
        "permitted": "holds left to the agency",
        "prohibited": "holds prohibited",
        "undetermined": "law not encoded (undetermined)",
    }.get(status, status)


def policy_changes(agency: Agency, first: date, last: date) -> list[tuple[date, str, str]]:
    """Each day after ``first`` up to ``last`` on which the agency's policy label changes, with the
    label before and after: its law changes then (``law_changes``), or the detainer form in use."""
    forms = [f.in_use_from for f in default_library().forms.values() if f.in_use_from]
    candidates = sorted({d for d in (*law_changes(agency.division, agency.kind), *forms) if first < d <= last})
    changes = []
    before = policy_label(agency, first)
    for day in candidates:
        after = policy_label(agency, day)
        if after != before:
            changes.append((day, before, after))
        before = after
    return changes
