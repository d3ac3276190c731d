"""A small law library written to a temporary folder, for tests of the loader and the engine."""

from __future__ import annotations

from pathlib import Path

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
