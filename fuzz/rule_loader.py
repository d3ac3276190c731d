"""Fuzz the rule-file loader: ``load_library`` (and so ``read_yaml``) on a temporary library whose
instrument file, ``forms.yaml`` or ``jurisdiction.yaml`` is the fuzzer's input.

Expected refusal: ``InvalidInput`` naming the file (the loader's documented behaviour: unknown keys,
duplicate keys, rules without citation or summary, unknown conditions, undated instruments).
Crashes are any other exception and, for a library the loader accepts: a rule, exception,
instrument or form whose citation or summary is not a non-blank string ("law that is not cited does
not ship"), a limit in hours that is not a number, or a decision under that library that fails with
anything but ``CustodyError``.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from datetime import date
from numbers import Real
from pathlib import Path
from typing import Any

import yaml

from fuzz._common import instrumented, main
from fuzz._json_edits import SKIP, document
from fuzz.known import passing_known

with instrumented(__name__ == "__main__", ["custody.law", "custody.domain"]):
    from custody.domain.errors import CustodyError, InvalidInput
    from custody.law.engine import decide
    from custody.law.loader import LIBRARY, Library, load_library

NAME = "rule_loader"
EXPECTED: tuple[type[BaseException], ...] = (InvalidInput,)
FEDERAL = Path("ocd-division") / "country:us"
_WORK = Path(tempfile.mkdtemp(prefix="custody-fuzz-law-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)
_JURISDICTION = "division: ocd-division/country:us\nname: United States (federal)\n"
_FORMS = (LIBRARY / FEDERAL / "forms.yaml").read_bytes()
KEYS = [
    "instrument", "rules", "offense_lists", "id", "name", "citation", "url", "effective_from", "enacted",
    "effective_to", "repealed_by", "verified", "binds", "notes", "says", "actions", "effect", "applies_when",
    "max_hours", "hold_clock", "exceptions", "when", "forms", "title", "in_use_from", "in_use_to", "hold_hours",
    "requires_administrative_warrant", "division", "aliases", "statutes", "fallback_flags",
]  # fmt: skip
PALETTE: list[Any] = [
    None, "", "   ", [], {}, 0, -1, 48, "48", 1e308, True, date(2017, 1, 1), date(1, 1, 1), "2017-02-29", "x-1",
    "prohibited", "permitted", "required", "preempts_local_limits", "bogus", "hold", ["hold", "notify"], ["fly"],
    "clock_hours", "excluding_weekends_and_holidays", "jail", ["jail", "police"], "I-247A",
    "felony_conviction", {"warrant_in": ["judicial_criminal"]}, {"warrant_in": "judicial_criminal"},
    {"conviction": {"level": "felony", "within_years": 10}}, {"conviction": {"within_years": "ten"}},
    {"conviction": {"in_list": "no-such-list"}}, {"pending_charge": {"degree_in": ["A", "X"]}},
    {"any": ["felony_conviction", "gang_database"]}, {"all": []}, {"any": "felony_conviction"}, {"not": None},
    {"moon_phase": True}, ["felony_conviction", {"not": "juvenile"}],
    "ocd-division/country:us/state:il", "ocd-division/country:us/state:zz", "ocd-division/country:us/ward:1",
]  # fmt: skip
REQUESTS: list[dict[str, Any]] = [
    {
        "agency": agency,
        "on": on,
        "request": {"form": "I-247A", "actions": ["hold", "notify", "transfer", "share_info", "access"], "warrant": w},
        "person": {
            "age": 30,
            "convictions": [
                {"offense": "burglary", "statute": "720 ILCS 5/19-1", "level": "felony", "date": "2011-06-02"}
            ],
            "pending_charges": [{"offense": "theft", "level": "misdemeanor", "violent": True, "serious": False}],
        },
    }
    for agency, on, w in [
        ("ocd-division/country:us/state:il/county:cook", "2017-08-16", "administrative"),
        ("ocd-division/country:us/state:tx/county:travis", "2020-01-02", "judicial_criminal"),
    ]
]  # fmt: skip


def _library(name: str, files: dict[str, bytes]) -> Path:
    """The library ``name`` with ``files`` written (the layout of each library never changes)."""
    root = _WORK / name
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def _load(root: Path) -> Library | None:
    try:
        return load_library(root)
    except EXPECTED:
        return None


def _cited(what: str, citation: object, says: object | None = None) -> None:
    for label, text in (("citation", citation), ("summary", says)):
        if text is not None and not (isinstance(text, str) and text.strip()):
            raise AssertionError(f"loaded {what} with {label} {text!r}")


def _hours(what: str, hours: object) -> None:
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, Real)):
        raise AssertionError(f"loaded {what} with a limit of {hours!r} hours")


def _check_library(library: Library) -> None:
    for jurisdiction in library.jurisdictions.values():
        for instrument in jurisdiction.instruments:
            _cited(f"instrument {instrument.id!r}", instrument.citation)
            for rule in instrument.rules:
                _cited(f"rule {rule.id!r}", rule.citation, rule.says)
                _hours(f"rule {rule.id!r}", rule.max_hours)
                for exc in rule.exceptions:
                    _cited(f"exception {exc.id!r}", exc.citation, exc.says)
                    _hours(f"exception {exc.id!r}", exc.max_hours)
    for form in library.forms.values():
        _cited(f"form {form.name!r}", form.citation)
        _hours(f"form {form.name!r}", form.hold_hours)


def _rule_file(data: bytes) -> bytes:
    """The bytes themselves; or, when edit bytes follow a NUL, the YAML before it edited and dumped
    again, so that inputs stay YAML often enough to reach the loader's checks."""
    if b"\x00" not in data:
        return data
    doc = document(data, PALETTE, KEYS, loads=yaml.safe_load, errors=(yaml.YAMLError,))
    if doc is SKIP:
        return data
    try:
        return yaml.safe_dump(doc, allow_unicode=True).encode()
    except (yaml.YAMLError, RecursionError):
        return data


def check(data: bytes) -> None:
    data = _rule_file(data)
    jurisdiction = _JURISDICTION.encode()
    instrument_library = _load(
        _library(
            "instrument",
            {
                f"{FEDERAL}/jurisdiction.yaml": jurisdiction,
                f"{FEDERAL}/forms.yaml": _FORMS,
                f"{FEDERAL}/fuzz.yaml": data,
            },
        )
    )
    if instrument_library is not None:
        _check_library(instrument_library)
        for request in REQUESTS:
            with contextlib.suppress(CustodyError):
                decide(request, instrument_library)
    forms_library = _load(
        _library("forms", {f"{FEDERAL}/jurisdiction.yaml": jurisdiction, f"{FEDERAL}/forms.yaml": data})
    )
    if forms_library is not None:
        _check_library(forms_library)
    jurisdiction_library = _load(
        _library(
            "jurisdiction",
            {f"{FEDERAL}/jurisdiction.yaml": jurisdiction, f"{FEDERAL}/state:il/jurisdiction.yaml": data},
        )
    )
    if jurisdiction_library is not None:
        _check_library(jurisdiction_library)


test_one_input = passing_known(NAME, check)

if __name__ == "__main__":
    main(test_one_input)
