"""The bounded fuzz runs: each harness for a fixed number of executions, never a wall-clock budget."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: a bounded fuzz run (a fixed number of executions per harness; fuzz/README.md)"
    )
