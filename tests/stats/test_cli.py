"""`custody stats …` as users and acceptance checks call it: --json prints only JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custody.domain.errors import InvalidInput
from custody.stats.cli import app
from custody.stats.datasets import DATA_DIR, UCR
from tests.stats.conftest import read_csv, shared_file


@pytest.fixture(autouse=True)
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTODY_VAR", str(tmp_path / "var"))
    return tmp_path / "var"


def _json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_murders_prints_the_contract_fields() -> None:
    row = next(r for r in read_csv(DATA_DIR / UCR.filename) if r["ORI"] == "FL01300" and r["year"] == "2015")
    out = _json("murders", "--agency-ori", "FL01300", "--year", "2015")
    assert {"agency", "year", "murders", "population", "per_100k", "source"} <= out.keys()
    assert (out["agency"], out["year"], out["murders"], out["population"]) == (
        row["department_name"], 2015, int(row["homs_sum"]), int(row["total_pop"])
    )  # fmt: skip


def test_claims_json_has_exactly_the_contract_keys() -> None:
    out = _json("claims")
    assert list(out) == ["claims"]
    claims = out["claims"]
    assert isinstance(claims, list) and len(claims) >= 7
    for claim in claims:
        assert list(claim) == ["claim", "quote", "figure", "source", "verdict", "why"]
        assert claim["verdict"] in {"supported", "not supported", "partly supported", "not checkable"}


def test_claims_text_says_what_a_comparison_can_and_cannot_show() -> None:
    result = CliRunner().invoke(app, ["claims"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "What a comparison can show" in text and "What it cannot show: why" in text


def test_import_checks_and_records_provenance_then_measures_read_it() -> None:
    path = shared_file("travis_county_ice_detainers_by_month_2006_2016.csv")
    record = _json("import", "travis-detainers", str(path))
    assert record["rows"] == len(read_csv(path)) and record["shipped"] is False
    listed = _json("datasets")["datasets"]
    assert isinstance(listed, list)
    assert next(d for d in listed if d["key"] == "travis-detainers")["loaded_from"] == str(path)
    assert _json("travis-detainers")["place"] == "Travis County, Texas"


def test_a_refusal_is_an_error_the_main_command_reports() -> None:
    result = CliRunner().invoke(app, ["chicago-murders", "--from", "17 Aug 2017"])
    assert isinstance(result.exception, InvalidInput)
    assert "YYYY-MM-DD" in result.exception.detail


def test_chart_writes_the_file(var: Path) -> None:
    out = var.parent / "chart.svg"
    result = CliRunner().invoke(app, ["chart", "murders-chicago-miami-dade", "--out", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<?xml")


def test_the_installed_command_prints_only_json_and_refuses_with_exit_2(var: Path) -> None:
    env = {**os.environ, "CUSTODY_VAR": str(var)}
    ok = subprocess.run(
        [sys.executable, "-m", "custody", "stats", "murders", "--agency-ori", "ILCPD00", "--year", "2015", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["murders"] == measure_row("ILCPD00", "2015")
    refused = subprocess.run(
        [sys.executable, "-m", "custody", "stats", "murders", "--agency-ori", "XX00000", "--year", "2015", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert "custody stats agencies" in refused.stderr


def measure_row(ori: str, year: str) -> int:
    return int(next(r for r in read_csv(DATA_DIR / UCR.filename) if (r["ORI"], r["year"]) == (ori, year))["homs_sum"])
