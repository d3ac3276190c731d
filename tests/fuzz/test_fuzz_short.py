"""The short fuzz run CI affords: every harness under fuzz/ for a fixed number of executions from
its seed corpus; any crash fails the test with the input and the traceback.

With atheris installed (the normal case) each harness runs under libFuzzer in a subprocess, bounded
by ``-runs``. Without it, the same ``test_one_input`` runs in-process over the seeds and seeded
random mutations of them (``fuzz._common.drive``): bounded and deterministic but not
coverage-guided; a warning in the test summary says so. Known, reported crashes (fuzz/known.py) are
passed over here and checked by their own xfail regression tests.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from fuzz._common import CORPUS, drive, have_atheris, seeds

ROOT = Path(__file__).resolve().parents[2]
# Executions per harness, sized so the whole run takes about half a minute on a development machine
# (the per-execution cost differs a hundredfold: a worker harness execution restores a store).
RUNS = {"ansi_nist": 6000, "decision_request": 4000, "envelope": 4000, "worker_apply": 250, "rule_loader": 150}


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(RUNS))
def test_harness_runs_its_executions_without_a_crash(name: str, tmp_path: Path) -> None:
    runs = RUNS[name]
    if not have_atheris():
        module = importlib.import_module(f"fuzz.{name}")
        warnings.warn(f"{name}: no atheris; fallback driver (not coverage-guided), {runs} runs", stacklevel=1)
        assert drive(module.test_one_input, seeds(name), runs, seed=1) == runs
        return
    corpus = tmp_path / "corpus"  # libFuzzer adds what it finds to the first folder: keep the repo's seeds as they are
    corpus.mkdir()
    command = [sys.executable, "-m", f"fuzz.{name}", f"-runs={runs}", "-seed=1", "-max_len=4096", "-timeout=120"]
    command += [f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus), str(CORPUS / name)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    crashes = sorted(tmp_path.glob("crash-*")) + sorted(tmp_path.glob("timeout-*"))
    found = "\n".join(f"{p.name}: {p.read_bytes()!r}" for p in crashes)
    assert done.returncode == 0 and not crashes, f"{name} crashed:\n{found}\n{done.stderr[-6000:]}"
    executed = [line for line in done.stderr.splitlines() if line.startswith("stat::number_of_executed_units:")]
    assert executed and int(executed[0].split()[-1]) >= runs, done.stderr[-2000:]
