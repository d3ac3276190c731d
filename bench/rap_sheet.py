"""The rap sheet of a hit: the indexed federal submissions (identity/service.py: rap_sheet) against
the scan of every submission the federal side applied that it replaced (issue 8), on the same store
in the same run. (The scan read the inbox's copy of each message; the inbox no longer keeps one, so
it reads the messages the inbox names, migration 0006.)

    .venv/bin/python bench/rap_sheet.py --submissions 1000 10000     # a scratch SQLite store each

Each person has BOOKINGS_PER_PERSON submissions; a hit reads the rap sheet of one of them. The
figures (JSON, last line of stdout) are milliseconds of wall and CPU time per hit, and the
indexed/scan ratios; the scan is this file's copy of the code it replaced, kept only to measure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from custody.domain.clock import SystemClock
from custody.identity.service import rap_sheet
from custody.store import db
from custody.store.models import FederalSubmissionIdentifierRow, FederalSubmissionRow, InboxRow, MessageRow
from custody.store.unit import Unit, unit_of_work

SUBMITTED = "gov.custody.booking.fingerprints_submitted.v1"
BOOKINGS_PER_PERSON = 4
HITS = 50
START = datetime(2017, 1, 1, tzinfo=UTC)


def scan_inbox(unit: Unit, identifiers: dict[str, str], before: str, booking_id: str) -> list[dict[str, Any]]:
    """The replaced algorithm: every federal submission read and compared, for every hit."""
    pairs = set(identifiers.items())
    earlier = []
    for envelope in unit.session.scalars(
        select(MessageRow.envelope)
        .join(InboxRow, InboxRow.message_id == MessageRow.id)
        .where(InboxRow.party == "federal", MessageRow.type == SUBMITTED)
        .order_by(InboxRow.applied_at)
    ):
        data = json.loads(envelope)["data"]
        if data["booking_id"] == booking_id or data["booked_at"] >= before:
            continue
        if pairs & set(data["person"]["identifiers"].items()):
            earlier.append(
                {
                    "booking_id": data["booking_id"],
                    "agency": data["agency"],
                    "booked_at": data["booked_at"],
                    "charges": data["charges"],
                }
            )
    return sorted(earlier, key=lambda b: b["booked_at"])


def _fill(url: str, count: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    inbox, messages, submissions, identifiers = [], [], [], []
    for n in range(count):
        person, visit = divmod(n, BOOKINGS_PER_PERSON)
        booked = START + timedelta(hours=n)
        data = {
            "booking_id": f"bkg_{n}",
            "agency": "ocd-division/country:us/state:il/county:cook",
            "booked_at": booked.isoformat(),
            "person": {"identifiers": {"sid": f"IL{person}"}},
            "charges": [{"offense": f"visit {visit}", "level": "misdemeanor"}],
        }
        envelope = json.dumps({"id": f"msg_{n}", "type": SUBMITTED, "data": data})  # the part the scan reads
        messages.append(
            {"seq": n + 1, "id": f"msg_{n}", "type": SUBMITTED, "to_party": "federal", "subject": f"bkg_{n}"}
            | {"envelope": envelope, "created_at": booked}
        )
        inbox.append({"party": "federal", "message_id": f"msg_{n}", "applied_at": booked})
        submissions.append(
            {"booking_id": f"bkg_{n}", "agency": data["agency"], "booked_at": booked, "data": data}
            | {"identity_id": None, "received_at": booked}
        )
        identifiers.append({"booking_id": f"bkg_{n}", "id_type": "sid", "value": f"IL{person}"})
    with engine.begin() as connection:
        connection.execute(insert(MessageRow), messages)
        connection.execute(insert(InboxRow), inbox)
        connection.execute(insert(FederalSubmissionRow), submissions)
        connection.execute(insert(FederalSubmissionIdentifierRow), identifiers)
    engine.dispose()


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000 / HITS, (time.process_time() - cpu) * 1000 / HITS


def measure(url: str, count: int) -> dict[str, Any]:
    _fill(url, count)
    engine = db.make_engine(url)
    with unit_of_work(db.session_factory(engine), SystemClock(), "bench") as unit:
        step = max(1, count // HITS)
        hits = [unit.session.get(FederalSubmissionRow, f"bkg_{n}") for n in range(count - 1, -1, -step)][:HITS]
        assert all(hits)
        indexed = [rap_sheet(unit, h) for h in hits if h]
        scanned = [
            scan_inbox(unit, h.data["person"]["identifiers"], h.data["booked_at"], h.booking_id) for h in hits if h
        ]
        if indexed != scanned:
            raise SystemExit("the indexed rap sheet differs from the scan")
        scan_wall, scan_cpu = _timed(
            lambda: [
                scan_inbox(unit, h.data["person"]["identifiers"], h.data["booked_at"], h.booking_id) for h in hits if h
            ]
        )
        index_wall, index_cpu = _timed(lambda: [rap_sheet(unit, h) for h in hits if h])
    engine.dispose()
    return {
        "submissions": count,
        "scan_ms_per_hit": round(scan_wall, 3),
        "scan_cpu_ms_per_hit": round(scan_cpu, 3),
        "indexed_ms_per_hit": round(index_wall, 3),
        "indexed_cpu_ms_per_hit": round(index_cpu, 3),
        "wall_ratio": round(index_wall / scan_wall, 5),
        "cpu_ratio": round(index_cpu / scan_cpu, 5) if scan_cpu else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    figures = []
    for count in args.submissions:
        figures.append(measure(f"sqlite:///{tempfile.mkdtemp()}/rap_sheet.db", count))
        sys.stderr.write(f"{figures[-1]}\n")
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
