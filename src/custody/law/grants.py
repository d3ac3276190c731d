"""Federal grant conditions checked against a jurisdiction's encoded law.

A condition is a reporting obligation, not an override: custody reports, per condition, whether the
law binding the jurisdiction's places of custody conflicts with it (by deciding the generic federal
request the condition concerns under the law in force), and lists the court rulings bearing on the
condition — binding where the ruling's circuit covers the state, persuasive elsewhere.

Which places of custody: a state's prisons, a county's jail, and for a city both a jail and the
police's lockups, since cities run either (New York City's Department of Correction, Chicago's
police lockups) and their laws may treat the two differently; any of them in conflict is a conflict.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from custody.domain.divisions import Division, Level
from custody.domain.errors import InvalidInput
from custody.law.engine import decide
from custody.law.loader import Library, read_yaml, take
from custody.law.model import Action

GRANTS = Path(__file__).parent / "grants"

# The request a condition concerns: DHS asks about a person with no criminal record, on the form in
# use, backed by an administrative warrant — the case in which local limits bite.
_PROBE_PERSON: dict[str, Any] = {"convictions": [], "pending_charges": []}
_DETAINER_FORMS = ("I-247A", "I-247D", "I-247")
_CUSTODY_KINDS = {Level.state: ("prison",), Level.county: ("jail",), Level.place: ("jail", "police")}


def fiscal_years() -> list[int]:
    """The fiscal years whose grant conditions are encoded, oldest first."""
    return sorted(int(p.stem.rsplit("fy", 1)[1]) for p in GRANTS.glob("byrne-jag-fy*.yaml"))


@cache
def grant_program(fiscal_year: int) -> dict[str, Any]:
    path = GRANTS / f"byrne-jag-fy{fiscal_year}.yaml"
    if not path.exists():
        years = ", ".join(map(str, fiscal_years()))
        raise InvalidInput(f"no grant conditions encoded for fiscal year {fiscal_year}; encoded: {years}")
    return _checked(read_yaml(path), path.name)


def _checked(program: dict[str, Any], where: str) -> dict[str, Any]:
    """The grant file as the library loader takes a law: every condition, ruling and the circuits
    table with its citation, and nothing unknown, or a refusal naming the place."""
    required = {"program", "citation", "fiscal_year", "announced", "conditions", "rulings"}
    take(program, where, required | {"circuits", "circuits_citation"}, {"verification", "circuits_verification"})
    checks = {"status_information", *(a.value for a in Action)}
    ids = set()
    for i, condition in enumerate(program["conditions"]):
        place = f"{where}: conditions[{i}]"
        take(condition, place, {"id", "name", "says", "citation", "checks"}, set())
        if condition["checks"] not in checks:
            raise InvalidInput(f"{place}: checks '{condition['checks']}' is not one of {', '.join(sorted(checks))}")
        ids.add(condition["id"])
    for i, ruling in enumerate(program["rulings"]):
        place = f"{where}: rulings[{i}]"
        required = {"id", "case", "court", "circuit", "date", "conditions", "holding"}
        take(ruling, place, required, {"parties", "covers", "verified"})
        if ruling["circuit"] not in program["circuits"]:
            raise InvalidInput(f"{place}: circuit '{ruling['circuit']}' is not in the circuits table")
        if not set(ruling["conditions"]) <= ids:
            raise InvalidInput(f"{place}: conditions {sorted(set(ruling['conditions']) - ids)} are not conditions here")
    return program


def check(library: Library, division: Division, fiscal_year: int, on: date | None = None) -> dict[str, Any]:
    program = grant_program(fiscal_year)
    when = on or program["announced"]
    if division.level is Level.federal:
        raise InvalidInput(
            "name a state, county or place: grant conditions bind the jurisdiction that receives the grant"
        )
    form = next(name for name in _DETAINER_FORMS if library.forms[name].in_use(when))
    circuit = next((c for c, states in program["circuits"].items() if division.state in states), None)
    results = []
    for condition in program["conditions"]:
        results.append(_condition(library, division, when, form, condition, program, circuit))
    return {
        "division": division.id,
        "program": program["program"],
        "citation": program["citation"],
        "fiscal_year": fiscal_year,
        "on": when.isoformat(),
        "circuit": circuit,
        "circuit_citation": program["circuits_citation"],
        "law_revision": library.revision,
        "note": "Grant conditions are reporting obligations; they do not change what the jurisdiction's law "
        "allows. Courts in most circuits held the FY2017 notice and access conditions unlawful.",
        "conditions": results,
    }


_VERDICTS = {"prohibited": "conflicts", "required": "no conflict", "permitted": "no conflict"}


def _condition(
    library: Library,
    division: Division,
    when: date,
    form: str,
    condition: dict[str, Any],
    program: dict[str, Any],
    circuit: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": condition["id"],
        "name": condition["name"],
        "says": condition["says"],
        "citation": condition["citation"],
    }
    action = condition["checks"]
    if action == "status_information":
        result.update(
            conflict="not determinable",
            why="custody's library does not encode rules on sharing citizenship or immigration-status information "
            "(most laws carve it out expressly, e.g. 5 ILCS 805/5); check its law against 8 U.S.C. 1373.",
            citations=[],
        )
    else:
        by_kind = {}
        for kind in _CUSTODY_KINDS[division.level]:
            doc = {
                "agency": division.id,
                "agency_kind": kind,
                "on": when.isoformat(),
                "request": {"form": form, "actions": [action], "warrant": "administrative"},
                "person": _PROBE_PERSON,
            }
            by_kind[kind] = decide(doc, library).to_contract()["actions"][action]
        verdicts = {kind: _VERDICTS.get(r["status"], "not determinable") for kind, r in by_kind.items()}
        # the first in conflict decides, else the first not determinable, else the first
        kind = min(verdicts, key=lambda k: ("conflicts", "not determinable", "no conflict").index(verdicts[k]))
        ruling = by_kind[kind]
        others = [f"{k}: {r['status']}" for k, r in by_kind.items() if k != kind]
        result.update(
            conflict=verdicts[kind],
            agency_kind=kind,
            law_status=ruling["status"],
            why=f"For the {kind}: {ruling['explanation']}"
            + (f" (Also decided, {'; '.join(others)}.)" if others else ""),
            citations=ruling["citations"],
        )
    result["rulings"] = [
        {
            "case": r["case"],
            "date": r["date"].isoformat(),
            "holding": " ".join(str(r["holding"]).split()),
            "bearing": _bearing(library, division, r, circuit),
            "in_effect_on_date": r["date"] <= when,
            "verified": r.get("verified", True),
        }
        for r in program["rulings"]
        if condition["id"] in r["conditions"]
    ]
    return result


def _bearing(library: Library, division: Division, ruling: dict[str, Any], circuit: str | None) -> str:
    """How a ruling bears on the jurisdiction: it was a party (by any of its division ids: a
    consolidated city-county's county is its place), the relief covers its state's subdivisions, or
    only the circuit's law reaches it. A state's party status does not make its counties parties."""
    jurisdiction = library.jurisdiction(division)
    names = {division.id} | (
        {jurisdiction.division.id, *(a.id for a in jurisdiction.aliases)} if jurisdiction else set()
    )
    if names & set(ruling.get("parties", [])):
        return "party"
    if any(division.id == c or division.id.startswith(c + "/") for c in ruling.get("covers", [])):
        return "the relief covers this jurisdiction"
    return "binding in this circuit" if ruling["circuit"] == circuit else "another circuit (persuasive)"
