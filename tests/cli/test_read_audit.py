"""Every command that prints personal data leaves one complete access entry (who, what, when,
where from, outcome) on the command line's chain, written by the function the API's log uses; a
refused read is logged with its refusal, and the chains still verify."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from custody.audit.access import ACTION, ACTOR_ENV, COMMAND_LINE_CHAIN
from custody.cli import reads
from custody.cli.main import app
from custody.domain.errors import NotFound
from custody.identity.commands import IdentityIn
from custody.service import Custody
from custody.sim.demo import load_demo
from custody.store.models import AuditEntryRow, BookingRow, FederalRequestRow
from tests.cli.test_cli import booking_file
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, booking, prints

Ids = dict[str, str]
# command line, from the demo's ids -> (route, records the entry must name)
READS: dict[str, Callable[[Ids], tuple[list[str], dict[str, str]]]] = {
    "show": lambda i: (["show", i["booking"], "--json"], {"booking_id": i["booking"]}),
    "bookings": lambda i: (["bookings", "--json"], {"bookings": i["bookings"]}),
    "requests": lambda i: (["requests", "--json"], {"requests": i["requests"]}),
    "law explain": lambda i: (["law", "explain", i["decision"], "--json"], {"decision_id": i["decision"]}),
    "prints queue": lambda i: (["prints", "queue", "--json"], {"identifications": ""}),
    "exchange dead-letters": lambda i: (["exchange", "dead-letters", "--json"], {"dead_letters": ""}),
}


@pytest.fixture
def demo(custody: Custody, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Ids:
    """The demo scenario in the store the commands open, and the ids they will print."""
    load_demo(custody)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    monkeypatch.setenv(ACTOR_ENV, "Officer 7")
    with custody.unit() as unit:
        bookings = list(unit.session.scalars(select(BookingRow).order_by(BookingRow.booked_at.desc())))
        requests = list(unit.session.scalars(select(FederalRequestRow).order_by(FederalRequestRow.issued_at.desc())))
        return {
            "booking": bookings[0].id,
            "bookings": ",".join(b.id for b in bookings[:20]),
            "requests": ",".join(r.id for r in requests[:20]),
            "decision": next(r.decision_id for r in requests if r.decision_id),
        }


def _cli_entries(custody: Custody) -> list[AuditEntryRow]:
    with custody.unit() as unit:
        query = select(AuditEntryRow).where(AuditEntryRow.chain == COMMAND_LINE_CHAIN).order_by(AuditEntryRow.seq)
        return list(unit.session.scalars(query))


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("command", list(READS))
def test_each_read_leaves_one_complete_entry(custody: Custody, demo: Ids, command: str) -> None:
    args, records = READS[command](demo)
    done = _run(*args)
    assert done.exit_code == 0, done.output
    (entry,) = _cli_entries(custody)
    assert entry.action == ACTION
    assert entry.actor == f"os:{getpass.getuser()} as Officer 7"  # who
    assert entry.recorded_at is not None  # when
    assert entry.data["client"] == f"cli:{socket.gethostname()}" and entry.data["user_agent"]  # where from
    assert entry.data["route"] == f"custody {command}" and entry.data["method"] == "CLI"  # what
    for name, shown in records.items():  # lists: the ids printed, whatever the order of equal rows
        assert sorted(entry.data["records"][name].split(",")) == sorted(shown.split(",")), name
    assert (entry.data["status"], entry.data["outcome"]) == (200, "allowed")
    assert _run("audit", "verify").exit_code == 0


@pytest.mark.usefixtures("gallery")
def test_the_queue_names_the_identifications_bookings_and_candidates_it_shows(custody: Custody, demo: Ids) -> None:
    identity_id = custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}), prints(FIRST_VISIT))
    booked = custody.book(booking("C-1", "2017-08-01T10:00:00-05:00", "Roe", "Jack", {}), prints(SECOND_VISIT))
    done = _run("prints", "queue", "--limit", "5")
    assert done.exit_code == 0, done.output
    (entry,) = _cli_entries(custody)
    (waiting,) = custody.identifications(5, 0, "awaiting_examiner")[1]
    assert entry.data["records"] == {"identifications": waiting["id"], "bookings": booked.id, "identities": identity_id}
    assert entry.data["query"] == {"state": "awaiting_examiner", "limit": "5"}


def test_a_refused_read_is_logged_with_its_refusal(
    custody: Custody, demo: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ACTOR_ENV)
    done = _run("show", "bkg_missing")
    assert isinstance(done.exception, NotFound)
    (entry,) = _cli_entries(custody)
    assert entry.actor == f"os:{getpass.getuser()}"
    assert entry.data["records"] == {"booking_id": "bkg_missing"}
    assert (entry.data["status"], entry.data["outcome"]) == (404, "failed")
    verified = _run("audit", "verify", "--json")
    assert verified.exit_code == 0 and COMMAND_LINE_CHAIN in verified.output


def test_a_read_that_cannot_be_logged_prints_nothing(
    custody: Custody, demo: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(reads, "record", broken)
    done = _run("show", demo["booking"], "--json")
    assert isinstance(done.exception, RuntimeError) and done.stdout == ""
    assert _cli_entries(custody) == []


def test_a_change_that_prints_the_person_s_record_logs_that_read(custody: Custody, demo: Ids, tmp_path: Any) -> None:
    """Found by a review: `custody book` (and release, respond, request) printed the person's record
    with no access entry; the commands that printed one line now print the record with --json, logged."""
    import json

    booked = _run("book", "--file", str(booking_file(tmp_path, "AUD-1")), "--json")
    assert booked.exit_code == 0, booked.output
    booking_id = json.loads(booked.stdout)["id"]
    moved = _run("move", booking_id, "--to", "ocd-division/country:us/state:fl/county:broward", "--json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["agency"] == "ocd-division/country:us/state:fl/county:broward"
    quiet = _run(
        "schedule-release", booking_id, "--planned-at", "2017-03-09T09:00:00-05:00", "--at", "2017-03-08T09:00:00-05:00"
    )
    assert quiet.exit_code == 0 and quiet.stdout == ""  # one line on stderr, no record printed, no read
    entries = [(e.data["route"], e.data["records"]) for e in _cli_entries(custody)]
    assert entries == [("custody book", {"booking_id": booking_id}), ("custody move", {"booking_id": booking_id})]
