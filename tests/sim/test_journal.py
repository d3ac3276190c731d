"""A simulation killed at any point carries on with --resume to the outcomes of a run never stopped.

The simulator's own state (arrests still to come, the cases it follows, its tally) is journalled in
the transaction of each batch it commits; these tests stop runs at the places a process can die and
compare what the resumed run reports with an uninterrupted run of the same seed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from custody.cli.main import app
from custody.domain.errors import Conflict, InvalidInput
from custody.service import Custody
from custody.sim import journal
from custody.sim.agencies import Agency
from custody.sim.reform import Reform
from custody.sim.run import simulate
from custody.store.models import BookingRow, SimulationJournalRow
from tests.sim.conftest import COOK, MIAMI_DADE
from tests.sim.test_simulate import _comparable, _options

REPO = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """Stands for the process dying: not an error the simulator could catch and go on from."""


def _die_on_call(
    monkeypatch: pytest.MonkeyPatch, method: str, call: int, on: Callable[[Custody], bool] = lambda _: True
) -> None:
    """The ``call``-th call of ``Custody.<method>`` (counting calls on services ``on`` accepts) kills the run."""
    original: Callable[..., Any] = getattr(Custody, method)
    calls = {"n": 0}

    def dying(self: Custody, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += on(self)
        if calls["n"] == call and on(self):
            raise Killed(method)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Custody, method, dying)


def _second_run_only() -> Callable[[Custody], bool]:
    """Calls on the reformed run's service (the one opened with a reform)."""
    return lambda service: service.reform is not None


def _journal_rows(url: str) -> list[tuple[int, bool, bool]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(SimulationJournalRow.number, SimulationJournalRow.snapshot, SimulationJournalRow.finished).order_by(
                SimulationJournalRow.number
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _bookings(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = int(conn.scalar(select(func.count()).select_from(BookingRow)) or 0)
    engine.dispose()
    return count


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("deliver", 6),  # after a batch committed, before its messages were delivered
        ("book_all", 12),  # inside a batch: its commands and its journal row are rolled back together
        ("release_eligible_all", 4),
        ("respond", 2),
    ],
)
def test_a_run_killed_anywhere_carries_on_to_the_outcomes_of_one_never_stopped(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str, call: int
) -> None:
    whole = simulate(_options(f"sqlite:///{tmp_path / 'whole.db'}", days=3))
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, method, call)
        with pytest.raises(Killed):
            simulate(_options(url, days=3))
    stopped_at = _bookings(url)
    assert 0 < stopped_at < whole["outcomes"]["bookings"]  # type: ignore[index]
    assert not any(finished for _, _, finished in _journal_rows(url))
    resumed = simulate(_options(url, days=3, resume=True))
    assert _comparable(resumed) == _comparable(whole)
    assert resumed["resumed_from"] is not None and whole["resumed_from"] is None
    assert _journal_rows(url)[-1][2]  # finished


def test_a_run_on_each_store_killed_twice_resumes_twice(
    small_nation: list[Agency], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = simulate(_options(f"sqlite:///{tmp_path / 'whole.db'}", days=3))
    for call in (5, 4):
        with monkeypatch.context() as patch:
            _die_on_call(patch, "deliver", call)
            with pytest.raises(Killed):
                simulate(_options(store_url, days=3, resume=True))
    assert _comparable(simulate(_options(store_url, days=3, resume=True))) == _comparable(whole)


def test_a_killed_process_resumes_from_its_last_commit(tmp_path: Path) -> None:
    """The real thing: SIGKILL a `custody simulate` once its journal has a few commits, then --resume."""
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    args = [sys.executable, "-m", "custody", "simulate", "--scale", f"division:{MIAMI_DADE}", "--seed", "3"]
    args += ["--days", "60", "--url", url, "--json"]
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path)}
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if Path(tmp_path / "sim.db").exists() and len(_safe_rows(url)) >= 3:
                break
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed; give it more days"
    rows = _journal_rows(url)
    assert rows and not rows[-1][2]
    again = CliRunner().invoke(app, [*args[3:], "--resume"])
    assert again.exit_code == 0, again.output
    whole = CliRunner().invoke(app, [*args[3:-3], "--url", f"sqlite:///{tmp_path / 'whole.db'}", "--json"])
    import json

    resumed, uninterrupted = json.loads(again.stdout), json.loads(whole.stdout)
    assert _comparable(resumed) == _comparable(uninterrupted)


def _safe_rows(url: str) -> list[tuple[int, bool, bool]]:
    try:
        return _journal_rows(url)
    except Exception:  # the store is still being created by the process
        return []


def test_a_stopped_run_says_how_to_carry_it_on_and_refuses_other_options(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 4)
        with pytest.raises(Killed):
            simulate(_options(url, days=2))
    with pytest.raises(Conflict, match=r"stopped at .* before its end: add --resume to carry it on"):
        simulate(_options(url, days=2))
    with pytest.raises(InvalidInput, match=r"--days was 2, now 3"):
        simulate(_options(url, days=3, resume=True))
    simulate(_options(url, days=2, resume=True))
    with pytest.raises(Conflict, match=r"finished at .*: add --resume to print its report again"):
        simulate(_options(url, days=2))


def test_a_finished_run_resumed_reports_the_same_and_books_nobody_again(
    small_nation: list[Agency], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    first = simulate(_options(url, days=2))
    bookings = _bookings(url)
    again = simulate(_options(url, days=2, resume=True))
    assert _comparable(again) == _comparable(first)
    assert _bookings(url) == bookings


def test_bookings_without_a_journal_cannot_be_resumed(small_nation: list[Agency], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    simulate(_options(url, days=1))
    service = Custody.open(url)
    with service.unit() as unit:
        unit.session.execute(SimulationJournalRow.__table__.delete())
    with pytest.raises(Conflict, match="without a journal to carry it on from"):
        simulate(_options(url, days=1, resume=True))


def test_nothing_to_resume_starts_at_the_beginning(small_nation: list[Agency], tmp_path: Path) -> None:
    fresh = simulate(_options(f"sqlite:///{tmp_path / 'a.db'}", days=1, resume=True))
    plain = simulate(_options(f"sqlite:///{tmp_path / 'b.db'}", days=1))
    assert _comparable(fresh) == _comparable(plain) and fresh["resumed_from"] is None


def test_snapshots_keep_the_journal_short(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tiny snapshot floor the journal is a snapshot and a few changes, never every batch;
    a run killed after several snapshots still resumes to the same outcomes."""
    monkeypatch.setattr(journal, "SNAPSHOT_FLOOR", 2_000)
    whole = simulate(_options(f"sqlite:///{tmp_path / 'whole.db'}", days=3))
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 12)
        with pytest.raises(Killed):
            simulate(_options(url, days=3))
    rows = _journal_rows(url)
    assert rows[0][1] and rows[0][0] > 1  # a later snapshot replaced the first rows
    assert not any(snapshot for _, snapshot, _ in rows[1:])
    assert _comparable(simulate(_options(url, days=3, resume=True))) == _comparable(whole)
    assert len(_journal_rows(url)) < rows[-1][0]


def test_a_reform_killed_in_its_second_run_carries_on_there(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2019-10-01")
    whole = simulate(_options(f"sqlite:///{tmp_path / 'whole.db'}", reform=reform))
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 8, on=_second_run_only())
        with pytest.raises(Killed):
            simulate(_options(url, reform=reform))
    assert _journal_rows(url)[-1][2]  # the baseline run had finished
    assert not _journal_rows(f"sqlite:///{tmp_path / 'sim.reform-7.db'}")[-1][2]
    resumed = simulate(_options(url, reform=reform, resume=True))
    assert resumed["reform"]["compared"] == whole["reform"]["compared"]  # type: ignore[index]
    assert _comparable(resumed) == _comparable(whole)


def test_a_finished_run_read_again_writes_nothing(small_nation: list[Agency], tmp_path: Path) -> None:
    """Found by a review: printing a finished run's report again added a journal row each time, and
    so failed on a read-only store."""
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    simulate(_options(url, days=1))
    rows = _journal_rows(url)
    again = simulate(_options(url, days=1, resume=True))
    assert _journal_rows(url) == rows
    assert again["resume"] == "already finished: the report is read again from the store"
    assert again["resumed_from"] is None


def test_resume_says_when_there_was_nothing_to_resume(small_nation: list[Agency], tmp_path: Path) -> None:
    fresh = simulate(_options(f"sqlite:///{tmp_path / 'a.db'}", days=1, resume=True))
    assert fresh["resume"] == "nothing to resume for seed 7 in this store: started at the beginning"
    args = ["simulate", "--days", "1", "--seed", "7", "--sample", "1", "--url", f"sqlite:///{tmp_path / 'b.db'}"]
    done = CliRunner().invoke(app, [*args, "--resume"])
    assert done.exit_code == 0 and "no stopped run of this seed in its store; starting at the beginning" in done.stderr
    assert "Resumed: nothing to resume for seed 7" in done.stdout


def test_the_default_sample_and_the_same_sample_given_are_one_run(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a state run stopped without --sample was refused "--sample was None, now 1.0"."""
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    state = {"scale": "state:fl", "sample": None}
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 3)
        with pytest.raises(Killed):
            simulate(_options(url, days=2, **state))
    resumed = simulate(_options(url, days=2, resume=True, scale="state:fl", sample=1.0))
    assert resumed["resumed_from"] is not None


def test_a_reform_store_left_by_another_run_does_not_block_the_resume(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a reform store kept from an earlier run with other --days refused every
    resume of a run killed before its own reform phase began."""
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2019-10-01")
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    simulate(_options(url, days=1, reform=reform))
    (tmp_path / "sim.db").unlink()  # the main store goes; the reform store of the 1-day run stays
    whole = simulate(_options(f"sqlite:///{tmp_path / 'whole.db'}", reform=reform))
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 4)
        with pytest.raises(Killed):
            simulate(_options(url, reform=reform))
    resumed = simulate(_options(url, reform=reform, resume=True))
    assert resumed["reform"]["compared"] == whole["reform"]["compared"]  # type: ignore[index]


def test_a_run_whose_reform_stopped_says_so(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a run killed in its reform phase was called "finished" and sent to print its report."""
    reform = Reform.parse(f"{MIAMI_DADE}={COOK}@2019-10-01")
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 6, on=_second_run_only())
        with pytest.raises(Killed):
            simulate(_options(url, reform=reform))
    with pytest.raises(Conflict, match=r"it finished, and its reform run stopped at .*: add --resume to carry that on"):
        simulate(_options(url, reform=reform))
    resumed = simulate(_options(url, reform=reform, resume=True))
    assert resumed["resume"] == "already finished: the report is read again from the store"
    assert resumed["reform"]["resume"].startswith("carried on from its last commit")  # type: ignore[index]


def test_a_run_resumes_only_under_the_law_and_rates_it_started_with(
    small_nation: list[Agency], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a library change (or a new rate) between a kill and its resume went
    unnoticed, and the run ended on outcomes of neither library."""
    from custody.sim import calibration, run

    url = f"sqlite:///{tmp_path / 'sim.db'}"
    with monkeypatch.context() as patch:
        _die_on_call(patch, "deliver", 3)
        with pytest.raises(Killed):
            simulate(_options(url, days=2))
    with monkeypatch.context() as patch:
        patch.setattr(calibration, "PICKUP_DURING_HOLD_SHARE", calibration.Rate(0.99, "A", "test"))
        with pytest.raises(InvalidInput, match="the simulator's rates was"):
            simulate(_options(url, days=2, resume=True))
    with monkeypatch.context() as patch:
        other = type("Library", (), {"revision": "sha256:another"})()
        patch.setattr(run, "default_library", lambda: other)
        with pytest.raises(InvalidInput, match="the law library's revision was sha256:"):
            simulate(_options(url, days=2, resume=True))
    assert simulate(_options(url, days=2, resume=True))["resumed_from"] is not None
