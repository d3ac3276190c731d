"""Retention: with no schedule nothing is due; with one, a dry run reports and deletes nothing, and
a real run deletes exactly the rows past their period, keeps everything else, and writes what it
deleted, and under which authority, to the audit log, whose chains still verify."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from custody.booking.commands import BookingIn
from custody.booking.service import FingerprintImage
from custody.cli.main import app
from custody.domain.clock import ManualClock
from custody.domain.errors import InvalidInput
from custody.identity.commands import IdentityIn
from custody.release.commands import ReleaseIn
from custody.service import Custody
from custody.store import retention
from custody.store.models import AuditEntryRow, DecisionRow, FingerprintImageRow
from tests.identity.fingerprints import blank_gallery, gallery  # noqa: F401 (fixtures)

COOK = "ocd-division/country:us/state:il/county:cook"
PRINT = (Path(__file__).parents[1] / "identity" / "prints" / "data" / "p1_1.png").read_bytes()
SCHEDULE = """
periods:
  unidentified_prints: {days: 30, authority: "Test records schedule, item 1 (unidentified arrestees' prints)"}
  adhoc_decisions: {days: 10, authority: "Test records schedule, item 2"}
"""
DOCUMENT = {
    "agency": COOK,
    "on": "2017-08-16",
    "request": {"form": "I-247A", "actions": ["hold"], "warrant": "administrative"},
    "person": {"convictions": [], "pending_charges": [{"offense": "retail theft", "level": "misdemeanor"}]},
}


def _book_and_release(custody: Custody, number: str, fbi: str) -> str:
    booking = custody.book(
        BookingIn.model_validate(
            {
                "agency": COOK,
                "booking_number": number,
                "booked_at": "2017-08-16T01:00:00-05:00",
                "person": {
                    "last_name": "Doe",
                    "first_name": number,
                    "date_of_birth": "1990-01-01",
                    "identifiers": {"fbi": fbi},
                },
                "charges": [{"offense": "theft", "level": "misdemeanor"}],
            }
        ),
        [FingerprintImage(2, "right_index.png", PRINT)],
    )
    custody.release_eligible(
        booking.id, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-16T08:00:00-05:00"})
    )
    return booking.id


def _prints_of(custody: Custody) -> dict[str, int]:
    with custody.unit() as unit:
        rows = unit.session.execute(
            select(FingerprintImageRow.booking_id, func.count()).group_by(FingerprintImageRow.booking_id)
        ).all()
        return {booking_id: n for booking_id, n in rows}


def _adhoc_decisions(custody: Custody) -> int:
    with custody.unit() as unit:
        return (
            unit.session.scalar(select(func.count()).select_from(DecisionRow).where(DecisionRow.request_id.is_(None)))
            or 0
        )


@pytest.fixture
def schedule(tmp_path: Path) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE)
    return path


@pytest.mark.usefixtures("gallery")  # real prints are searched: in a gallery of this test
def test_a_dry_run_reports_and_a_run_deletes_only_what_is_past_its_period(
    custody: Custody, clock: ManualClock, schedule: Path
) -> None:
    custody.enrol(IdentityIn(names=["DOE, Known"], identifiers={"fbi": "K1"}))
    known = _book_and_release(custody, "R-1", "K1")
    unknown = _book_and_release(custody, "R-2", "U2")
    custody.decide(DOCUMENT)
    clock.advance(timedelta(days=20))
    periods = retention.load_schedule(schedule)

    with custody.unit() as unit:
        early = retention.apply(unit, periods, clock.now(), "test", dry_run=True)
    assert [(o.record_class, o.due) for o in early] == [("unidentified_prints", 0), ("adhoc_decisions", 1)]

    clock.advance(timedelta(days=11))  # 31 days after release
    with custody.unit() as unit:
        dry = retention.apply(unit, periods, clock.now(), "test", dry_run=True)
    assert [(o.due, o.deleted) for o in dry] == [(1, 0), (1, 0)]
    assert _prints_of(custody) == {known: 1, unknown: 1} and _adhoc_decisions(custody) == 1

    with custody.unit() as unit:
        done = retention.apply(unit, periods, clock.now(), "test", dry_run=False)
    assert [(o.record_class, o.deleted) for o in done] == [("unidentified_prints", 1), ("adhoc_decisions", 1)]
    assert _prints_of(custody) == {known: 1}, "the identified person's prints are not in this class"
    assert _adhoc_decisions(custody) == 0
    with custody.unit() as unit:
        logged = list(unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.chain == retention.CHAIN)))
    assert all(report.ok for report in custody.verify_audit())
    assert [(e.action, e.subject, e.data["count"]) for e in logged] == [
        (retention.ACTION, "unidentified_prints", 1),
        (retention.ACTION, "adhoc_decisions", 1),
    ]
    assert logged[0].data["authority"].startswith("Test records schedule, item 1")

    with custody.unit() as unit:
        again = retention.apply(unit, periods, clock.now(), "test", dry_run=False)
    assert [o.deleted for o in again] == [0, 0]


def test_without_a_schedule_nothing_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(retention.SCHEDULE_ENV, raising=False)
    assert retention.load_schedule() == []


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("periods:\n  released_prints: {days: 30}\n", "name the records schedule item"),
        ("periods:\n  everything: {days: 1, authority: x}\n", "unknown record class 'everything'"),
        ("periods:\n  dead_letters: {days: -1, authority: x}\n", "whole number of days"),
        ("periods: [1, 2]\n", "expected 'periods:'"),
    ],
)
def test_a_period_without_an_authority_or_of_the_wrong_shape_is_refused(
    tmp_path: Path, text: str, refusal: str
) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=refusal):
        retention.load_schedule(path)


def test_the_command_reports_a_dry_run_as_json(
    custody: Custody, store_url: str, schedule: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custody.decide(DOCUMENT)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    runner = CliRunner()
    result = runner.invoke(app, ["retention", "apply", "--dry-run", "--schedule", str(schedule), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    due = {c["record_class"]: (c["due"], c["deleted"]) for c in report["classes"]}
    assert due == {"unidentified_prints": (0, 0), "adhoc_decisions": (1, 0)}, "logged in 2017, due by today's clock"
    assert _adhoc_decisions(custody) == 1
