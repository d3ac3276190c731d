"""`custody enrol --print`, `custody prints queue|confirm|reject` as a user calls them (subprocess):
JSON only on stdout, a refusal is one line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.identity.fingerprints import DATA, booking


def _custody(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    env.pop("CUSTODY_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "custody", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.usefixtures("gallery")
def test_an_examiner_confirms_from_the_command_line(tmp_path: Path) -> None:
    identity = tmp_path / "identity.json"
    identity.write_text(json.dumps({"names": ["DOE, Jan"], "identifiers": {"fbi": "777X"}, "record": {"a": 1}}))
    enrolled = _custody(
        "enrol",
        "--file",
        str(identity),
        "--print",
        f"1={DATA / 'p1_1.png'}",
        "--print",
        f"2={DATA / 'p2_1.png'}",
        tmp_path=tmp_path,
    )
    assert enrolled.returncode == 0, enrolled.stderr
    identity_id = enrolled.stdout.strip()
    submission = tmp_path / "booking.json"
    submission.write_text(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}).model_dump_json())
    booked = _custody(
        "book",
        "--file",
        str(submission),
        "--print",
        f"1={DATA / 'p1_2.png'}",
        "--print",
        f"2={DATA / 'p2_2.png'}",
        "--json",
        tmp_path=tmp_path,
    )
    assert booked.returncode == 0, booked.stderr
    assert json.loads(booked.stdout)["identity_id"] is None  # waiting for the examiner

    queue = _custody("prints", "queue", "--json", tmp_path=tmp_path)
    assert queue.returncode == 0, queue.stderr
    (waiting,) = json.loads(queue.stdout)["items"]
    assert waiting["candidates"][0]["identity_id"] == identity_id

    confirmed = _custody("prints", "confirm", waiting["id"], "--examiner", "K. Examiner", "--json", tmp_path=tmp_path)
    assert confirmed.returncode == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["examiner"] == "K. Examiner"
    shown = _custody("show", json.loads(booked.stdout)["id"], "--json", tmp_path=tmp_path)
    assert json.loads(shown.stdout)["identity_id"] == identity_id

    refused = _custody("prints", "reject", waiting["id"], "--examiner", "A. Other", "--reason", "x", tmp_path=tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "is confirmed: 'reject' cannot happen now" in refused.stderr
