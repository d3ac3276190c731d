"""A small law library written to a temporary folder, for tests of the loader and the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custody.law.engine import decide

# A well-formed instrument: one rule with one exception.
RULE = """
instrument:
  id: test-ordinance
  name: Test ordinance
  citation: Test Code 1-1
  url: https://example.org/test
  effective_from: 2015-01-01
rules:
  - id: test-1-1-a
    citation: Test Code 1-1(a)
    says: No hold on a detainer.
    actions: [hold]
    effect: prohibited
    exceptions:
      - id: test-1-1-b
        citation: Test Code 1-1(b)
        says: Unless a judge signed a warrant.
        when: {warrant_in: [judicial_criminal]}
        effect: permitted
"""

# One federal form, for libraries that decide requests.
I_247A = (
    "forms:\n  - {name: I-247A, title: t, citation: c, in_use_from: 2017-04-02, hold_hours: 48,"
    " hold_clock: clock_hours, requires_administrative_warrant: true}\n"
)


def write_library(root: Path, files: dict[str, str], state: str | None = None, forms: bool = False) -> Path:
    """Write ``files`` (name → YAML) into the federal folder, or into ``state``'s folder; return the root."""
    federal = root / "ocd-division" / "country:us"
    federal.mkdir(parents=True)
    (federal / "jurisdiction.yaml").write_text("division: ocd-division/country:us\nname: US\n")
    folder = federal
    if state:
        folder = federal / f"state:{state}"
        folder.mkdir()
        (folder / "jurisdiction.yaml").write_text(f"division: ocd-division/country:us/state:{state}\nname: {state}\n")
    for name, text in files.items():
        (folder / name).write_text(text)
    if forms:
        (federal / "forms.yaml").write_text(I_247A)
    return root


def instrument(ident: str, citation: str, effective_from: str, says: str, actions: str, effect: str) -> str:
    """An instrument of one rule, cited as ``citation``'s subsection (a)."""
    return f"""
instrument:
  id: {ident}
  name: {ident}
  citation: {citation}
  url: https://example.org/{ident}
  effective_from: {effective_from}
rules:
  - id: {ident}-a
    citation: {citation}(a)
    says: {says}
    actions: [{actions}]
    effect: {effect}
"""


# Federal law as custody's library has it, in one rule: a detainer may be honored.
FEDERAL_PERMITS = instrument(
    "federal-detainers", "Fed. Reg. 1", "2000-01-01", "An agency may honor.", "hold, notify", "permitted"
)


def add_county(root: Path, state: str, county: str, files: dict[str, str], meta: str = "") -> str:
    """A county folder under a library :func:`write_library` made, with the federal rule and form
    beside it; returns the county's division id."""
    division = f"ocd-division/country:us/state:{state}/county:{county}"
    folder = root / "ocd-division" / "country:us" / f"state:{state}" / f"county:{county}"
    folder.mkdir()
    (folder / "jurisdiction.yaml").write_text(f"division: {division}\nname: {county}\n{meta}")
    for name, text in files.items():
        (folder / name).write_text(text)
    (root / "ocd-division" / "country:us" / "forms.yaml").write_text(I_247A)
    (root / "ocd-division" / "country:us" / "federal.yaml").write_text(FEDERAL_PERMITS)
    return division


def decided(library: Any, agency: str, on: str, **extra: Any) -> dict[str, Any]:
    """The contract's actions for a detainer's hold and notice on a person with no record."""
    doc = {
        "agency": agency,
        "on": on,
        "request": {"form": "I-247A", "actions": ["hold", "notify"], "warrant": "administrative"},
        "person": {"convictions": [], "pending_charges": []},
        **extra,
    }
    actions: dict[str, Any] = decide(doc, library).to_contract()["actions"]
    return actions
