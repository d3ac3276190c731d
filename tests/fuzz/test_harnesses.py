"""The harnesses themselves: every one has seeds, names its expected refusals, accepts its own seeds,
and every known crash it passes over has a regression test that exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from fuzz._common import seeds
from fuzz.known import KNOWN

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


def test_every_known_crash_has_its_regression_test() -> None:
    """Every crash still open has a strict-xfail regression test (none is open today)."""
    for known in KNOWN:
        path, _, function = known.regression.partition("::")
        assert known.harness in RUNS
        text = (ROOT / path).read_text()
        assert re.search(rf"^def {re.escape(function)}\(", text, re.MULTILINE), known
        assert "xfail(strict=True" in text
