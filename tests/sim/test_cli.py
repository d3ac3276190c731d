"""The command-line contracts: `custody simulate` and `custody bench e2e --json`."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custody.cli.main import app
from custody.sim.agencies import Agency
from tests.sim.conftest import COOK, MIAMI_DADE


def test_simulate_prints_its_report_and_a_reform_side_by_side(small_nation: list[Agency], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate", "--days", "1", "--scale", "national", "--sample", "1", "--seed", "3",
            "--url", f"sqlite:///{tmp_path / 'sim.db'}", "--reform", f"{MIAMI_DADE}={COOK}@2019-10-01", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["simulator"]["arrests"] == report["outcomes"]["bookings"] > 0
    assert report["reform"]["reform"].startswith(MIAMI_DADE)
    assert report["rates"]["ADMISSIONS_PER_YEAR"]["tag"] == "V"


def test_simulate_refuses_to_run_twice_into_one_store(small_nation: list[Agency], tmp_path: Path) -> None:
    args = ["simulate", "--days", "1", "--seed", "4", "--sample", "1", "--url", f"sqlite:///{tmp_path / 's.db'}"]
    assert CliRunner().invoke(app, args).exit_code == 0
    again = CliRunner().invoke(app, args)
    assert again.exit_code != 0
    assert "already holds bookings of a simulation with seed 4" in str(again.exception)


def test_bench_e2e_ends_with_its_figures_as_json() -> None:
    result = CliRunner().invoke(app, ["bench", "e2e", "--bookings", "25", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # JSON only on stdout
    assert figures["bookings"] == 25
    assert figures["rows"] > 25 * 10  # every booking writes its events, audit entries and messages
    assert figures["bookings_per_s"] > 0 and figures["baseline_rows_per_s"] > 0
    # the ratio of the unrounded times; the printed ones are rounded to the millisecond, which on a
    # run this short moves their quotient by more than any fixed share (a test failed so)
    low = (figures["baseline_seconds"] - 0.0005) / (figures["seconds"] + 0.0005)
    high = (figures["baseline_seconds"] + 0.0005) / max(figures["seconds"] - 0.0005, 1e-9)
    assert low - 1e-4 <= figures["ratio"] <= high + 1e-4, figures
    assert figures["errors"] == {}


def test_bench_e2e_repeated_reports_the_medians_of_its_passes() -> None:
    result = CliRunner().invoke(app, ["bench", "e2e", "--bookings", "15", "--gallery", "0", "--repeat", "3", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # JSON only on stdout
    assert (figures["bookings"], figures["repeat"], len(figures["ratios"])) == (15, 3, 3)
    assert figures["ratio"] == pytest.approx(statistics.median(figures["ratios"]), abs=1e-4)
    for wrong, named in (("--repeat", "0"), ("--bookings", "0"), ("--workers", "-1"), ("--gallery", "-2")):
        args = ["bench", "e2e", "--bookings", "15", "--json", wrong, named]
        refused = subprocess.run([sys.executable, "-m", "custody", *args], capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and refused.stdout == "", refused.stderr  # refused at once, by name
        assert wrong in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.postgres
def test_bench_e2e_runs_on_postgres_and_nats_with_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployed shape: every message applied by `custody worker` processes, none lost or doubled."""
    from tests.conftest import POSTGRES_URL
    from tests.exchange.support import nats_available

    nats_available()
    monkeypatch.setenv("CUSTODY_DATABASE_URL", POSTGRES_URL)  # the PostgreSQL its scratch stores go in
    args = ["bench", "e2e", "--bookings", "20", "--json", "--store", "postgres", "--transport", "nats"]
    result = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # JSON only on stdout
    assert (figures["bookings"], figures["worker_processes"], figures["errors"]) == (20, 2, {})
    tables = figures["rows_by_table"]
    assert tables["inbox"] == tables["messages"] >= 40 and "dead_letters" not in tables


def test_a_report_table_puts_each_count_under_its_own_heading() -> None:
    """Rows with different keys (found by a walk-through: transfer's 'permitted 2, prohibited 1,
    required 1' printed under 'prohibited | required | (blank)', the first row's headings)."""
    from rich.console import Console

    from custody.sim.cli import _table

    console = Console(width=120, record=True)
    console.print(
        _table(
            "t",
            [
                {"action": "hold", "prohibited": 5, "required": 7},
                {"action": "transfer", "permitted": 2, "prohibited": 1},
            ],
        )
    )
    lines = console.export_text().splitlines()
    (header,) = [line.split("┃")[1:-1] for line in lines if line.count("┃") > 2]
    rows = [line.split("│")[1:-1] for line in lines if line.count("│") > 2]
    columns = [h.strip() for h in header]
    assert columns == ["action", "prohibited", "required", "permitted"]
    transfer = dict(zip(columns, (c.strip() for c in rows[1]), strict=True))
    assert transfer == {"action": "transfer", "prohibited": "1", "required": "", "permitted": "2"}


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--reform", f"{COOK}={MIAMI_DADE}@1900-01-01", "library begins on 1997-04-01"),
        ("--start", "1900-01-01", "library begins on 1997-04-01"),
        ("--seed", "-1", "from 0 to 9223372036854775807"),
        ("--seed", "99999999999999999999", "from 0 to 9223372036854775807"),
    ],
)
def test_simulate_refuses_a_bad_option_at_once(option: str, value: str, said: str, tmp_path: Path) -> None:
    """Found by a review: each of these ran (or began to) and ended with exit 0, or failed unexpectedly."""
    args = ["simulate", "--scale", f"division:{COOK}", "--days", "1", "--url", f"sqlite:///{tmp_path / 's.db'}"]
    refused = subprocess.run(
        [sys.executable, "-m", "custody", *args, option, value, "--json"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and refused.stdout == "", refused.stderr
    assert refused.stderr.startswith(f"error: {option}") and said in refused.stderr
    assert len(refused.stderr.splitlines()) == 1 and not (tmp_path / "s.db").exists()  # nothing simulated


def test_the_report_names_the_day_of_its_policies_and_each_change_within_the_run(
    small_nation: list[Agency], tmp_path: Path
) -> None:
    """Found by a review: the policy rows gave no date, and a run across Texas SB 4 showed one label."""
    undetermined = "law not encoded (undetermined)"
    result = CliRunner().invoke(
        app,
        [
            "simulate", "--days", "2", "--start", "2017-08-31", "--sample", "1", "--seed", "3",
            "--url", f"sqlite:///{tmp_path / 'sim.db'}",
        ],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "By jurisdiction policy on 2017-08-31" in result.stdout
    (change,) = [line for line in result.stdout.splitlines() if "state:tx" in line]
    cells = [cell.strip() for cell in change.split("│")[1:-1]]
    assert cells == ["state:tx (synthetic counties)", "1", "2017-09-01", "holds left to the agency", undetermined]


def test_the_requests_never_reached_are_not_shown_as_a_part_of_those_issued(
    small_nation: list[Agency], tmp_path: Path
) -> None:
    """Found by a review: "issued (not reached: released first)  223 (23)" read as 23 of the 223,
    the way every other bracket in the table is a part of its row."""
    args = ["simulate", "--days", "1", "--sample", "1", "--seed", "3"]
    figures = json.loads(CliRunner().invoke(app, [*args, "--url", f"sqlite:///{tmp_path / 'a.db'}", "--json"]).stdout)
    shown = CliRunner().invoke(app, [*args, "--url", f"sqlite:///{tmp_path / 'b.db'}"], env={"COLUMNS": "200"})
    rows = dict(
        (cells[0], cells[1])
        for line in shown.stdout.splitlines()
        if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 2
    )
    tally = figures["simulator"]
    assert tally["requests_not_reached"] > 0
    assert rows["federal requests issued"] == str(tally["requests_issued"])
    reached = "federal requests not issued: the person released before the federal side asked"
    assert rows[reached] == str(tally["requests_not_reached"])
