"""Fuzz what a worker does with an incoming message: ``custody.exchange.worker.apply`` on edited
envelopes (see ``fuzz/_json_edits.py``), against a SQLite store holding the seed scenarios.

``apply`` must answer every message with an outcome (applied, duplicate, or dead-lettered with the
reason: ``MessageRefused`` from the parser and ``CustodyError`` from the domain are turned into dead
letters inside it). An exception escaping ``apply`` is a crash: in production that message would
be retried MAX_ATTEMPTS times as if the database had failed, then dead-lettered without its reason.

Each execution starts from a copy of the same store, so a crash input replays as it ran.
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
from pathlib import Path

from fuzz._common import instrumented, main
from fuzz._json_edits import SKIP, Choices, document
from fuzz.known import passing_known

with instrumented(__name__ == "__main__", ["custody"]):
    from custody.domain.clock import ManualClock
    from custody.exchange.worker import Outcome, apply
    from custody.service import Custody
    from custody.store import db
    from fuzz._store import CLOCK_AT, scenario_store

from datetime import datetime

from fuzz.envelope import KEYS, PALETTE

NAME = "worker_apply"
EXPECTED: tuple[type[BaseException], ...] = ()  # apply itself refuses nothing: it dead-letters
PARTIES = [
    "federal",
    "local:*",
    "local:ocd-division/country:us/state:fl/county:miami-dade",
    "local:ocd-division/country:us/state:il/county:cook",
]
_WORK = Path(tempfile.mkdtemp(prefix="custody-fuzz-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)
_SNAPSHOT = _WORK / "snapshot.db"
scenario_store(_SNAPSHOT).engine.dispose()


_LIVE = _WORK / "live.db"
# One engine for the whole run (SQLAlchemy caches compiled statements per engine); its connections
# are closed before the file under it is put back to the snapshot.
_CUSTODY = Custody(db.make_engine(f"sqlite:///{_LIVE}"), ManualClock(datetime.fromisoformat(CLOCK_AT)), actor="fuzz")
logging.getLogger("custody.exchange").setLevel(logging.ERROR)  # a dead letter per input is the normal case


def _fresh_store() -> Custody:
    _CUSTODY.engine.dispose()
    for suffix in ("-wal", "-shm"):
        _LIVE.with_name(_LIVE.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(_SNAPSHOT, _LIVE)
    return _CUSTODY


def check(data: bytes) -> None:
    doc = document(data, [*PALETTE, "msg_fuzz_2"], KEYS)
    if doc is SKIP:
        return
    try:
        raw = json.dumps(doc)
    except (RecursionError, ValueError):
        return
    to_party = doc.get("toparty") if isinstance(doc, dict) else None
    party = to_party if isinstance(to_party, str) and Choices(data[-1:]).pick(4) else PARTIES[data[-1] % 4]
    message_id = doc.get("id") if isinstance(doc, dict) else None  # a transport's id is the envelope's, a string
    outcome = apply(_fresh_store(), party, raw, message_id if isinstance(message_id, str) else None)
    if outcome not in (Outcome.applied, Outcome.duplicate, Outcome.dead):
        raise AssertionError(f"apply answered {outcome!r}")


test_one_input = passing_known(NAME, check)

if __name__ == "__main__":
    main(test_one_input)
