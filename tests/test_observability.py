"""The log level an operator or a benchmark asks for in CUSTODY_LOG_LEVEL (secrets masking is in
tests/store/test_protection.py)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from custody.domain.errors import InvalidInput
from custody.observability import LEVEL_ENV, log_level

SPEAK = (
    "import logging; from custody.observability import configure_logging; configure_logging(); "
    "logging.getLogger('custody.x').info('an info line'); logging.getLogger('custody.x').warning('a warning line')"
)


def test_the_level_is_info_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEVEL_ENV, raising=False)
    assert log_level() == logging.INFO
    monkeypatch.setenv(LEVEL_ENV, " warning ")
    assert log_level() == logging.WARNING
    monkeypatch.setenv(LEVEL_ENV, "DEBUG")
    assert log_level() == logging.DEBUG


def test_a_level_that_is_not_one_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEVEL_ENV, "loud")
    with pytest.raises(InvalidInput, match="CUSTODY_LOG_LEVEL='LOUD' is not a log level; use one of DEBUG, INFO"):
        log_level()


@pytest.mark.parametrize(("level", "info_shown"), [("", True), ("WARNING", False)])
def test_a_process_logs_at_the_level_named(level: str, info_shown: bool) -> None:
    env = {**os.environ, LEVEL_ENV: level}
    done = subprocess.run([sys.executable, "-c", SPEAK], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "a warning line" in done.stderr
    assert ("an info line" in done.stderr) is info_shown
