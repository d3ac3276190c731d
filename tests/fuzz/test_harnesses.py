"""The harnesses themselves: every one has seeds, names its expected refusals, accepts its own seeds,
and every known crash it passes over has a regression test that exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from fuzz._common import seeds
from fuzz.known import KNOWN, Known, passing_known

from custody.exchange import envelope
from custody.exchange.envelope import MessageRefused
from tests.fuzz.test_fuzz_short import RUNS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_seed_runs_clean(name: str) -> None:
    module = importlib.import_module(f"fuzz.{name}")
    assert name == module.NAME and isinstance(module.EXPECTED, tuple)
    corpus = seeds(name)
    assert corpus
    for data in corpus:
        module.test_one_input(data)


def _regression_missing(known: Known) -> str | None:
    """What is wrong with a known crash's regression test, if anything."""
    path, _, function = known.regression.partition("::")
    if known.harness not in RUNS:
        return "no such harness"
    if not (ROOT / path).is_file():
        return "no such file"
    text = (ROOT / path).read_text()
    if not re.search(rf"^def {re.escape(function)}\(", text, re.MULTILINE):
        return "no such test"
    # the strict xfail must decorate that test itself, among its other decorators
    if not re.search(
        rf"^@pytest\.mark\.xfail\(strict=True.*\n(?:@.*\n)*def {re.escape(function)}\(", text, re.MULTILINE
    ):
        return "not a strict xfail"
    return None


def test_every_known_crash_has_its_regression_test() -> None:
    """Every crash still open has a strict-xfail regression test (none is open today, so the check is
    also shown refusing entries whose test is missing or not an xfail)."""
    assert {k: _regression_missing(k) for k in KNOWN if _regression_missing(k)} == {}
    here = "tests/fuzz/test_harnesses.py"
    assert _regression_missing(Known("envelope", "KeyError", "exchange/envelope.py:parse", f"{here}::nothing")) == (
        "no such test"
    )
    assert _regression_missing(
        Known("envelope", "KeyError", "exchange/envelope.py:parse", f"{here}::test_every_seed_runs_clean")
    ) == ("not a strict xfail")


def test_a_known_crash_is_passed_over_and_any_other_escapes() -> None:
    def check(data: bytes) -> None:
        envelope.parse(data)  # refuses this text inside custody, in exchange/envelope.py's parse

    known = (Known("envelope", "MessageRefused", "exchange/envelope.py:parse", "tests/x.py::t"),)
    passing_known("envelope", check, known)(b"[")
    for other in (
        (Known("ansi_nist", "MessageRefused", "exchange/envelope.py:parse", "tests/x.py::t"),),
        (Known("envelope", "ValueError", "exchange/envelope.py:parse", "tests/x.py::t"),),
        (Known("envelope", "MessageRefused", "exchange/envelope.py:build", "tests/x.py::t"),),
        (Known("envelope", "MessageRefused", "exchange/envelope.py:parse", "tests/x.py::t", "no such words"),),
    ):
        with pytest.raises(MessageRefused):
            passing_known("envelope", check, other)(b"[")
