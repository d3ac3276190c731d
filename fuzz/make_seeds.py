"""Write the seed corpora under fuzz/corpus/ (run once; the files are kept in the repository).

Every seed is made from the project's own material: the ANSI/NIST-ITL writer (with placeholder
bytes where image data goes: the harness fuzzes the container, not WSQ), docs/examples, the legal
examples' DecisionRequests, the messages the seed scenarios send, and the law library's own files.

    .venv/bin/python -m fuzz.make_seeds
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import yaml

from custody.exchange.catalogue import BY_TYPE
from custody.exchange.envelope import build
from custody.identity.prints.ansi_nist import BinaryRecord, TaggedRecord, type4, type14, write_transaction
from custody.law.loader import LIBRARY
from custody.store.models import MessageRow
from fuzz._common import CORPUS
from fuzz._store import scenario_store

ROOT = Path(__file__).resolve().parents[1]


def _fresh(name: str) -> Path:
    folder = CORPUS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def ansi_nist() -> None:
    folder = _fresh("ansi_nist")
    header = TaggedRecord(1, {2: b"0201", 4: b"CAR", 5: b"20170816", 7: b"ILCPD0000", 8: b"IL0160000", 9: b"TCN1"})
    person = TaggedRecord(2, {2: b"0", 18: b"DOE, JOHN", 22: b"19800101"})
    wsq = b"\xff\xa0\xff\xa8" + bytes(range(24))  # a WSQ start-of-image marker, then placeholder bytes
    transactions = {
        "type1-only": [TaggedRecord(1, {2: b"0300", 4: b"CAR", 5: b"20170816"})],
        "type1-type2": [header, person],
        "type4": [header, person, type4(1, 2, 16, 12, wsq)],
        "type14": [header, person, type14(1, 7, 16, 12, wsq, source="ILCPD0000", date="20170816")],
        "booking": [
            header,
            person,
            type4(1, 1, 16, 12, wsq),
            type14(2, 7, 16, 12, wsq, source="ILCPD0000", date="20170816"),
            TaggedRecord(9, {2: b"3", 3: b"U", 4: b"S"}),
            BinaryRecord(7, 4, b"", b"vendor data"),
        ],
        "type13-subfields": [
            header,
            TaggedRecord(13, {2: b"1", 6: b"16", 7: b"12", 8: b"2", 9: b"197", 11: b"NONE", 13: b"2\x1e3", 999: wsq}),
        ],
    }
    for name, records in transactions.items():
        (folder / f"{name}.an2").write_bytes(write_transaction(records))


def decision_request() -> None:
    folder = _fresh("decision_request")
    shutil.copy(ROOT / "docs" / "examples" / "decision-request.json", folder / "docs-example.json")
    for path in sorted((ROOT / "tests" / "law" / "examples").rglob("*.yaml")):
        defaults = yaml.safe_load(path.read_text())["defaults"]
        (folder / f"{path.stem}.json").write_text(json.dumps(defaults, sort_keys=True) + "\n")


def envelopes() -> None:
    """The messages the seed scenarios send, one file per message type (both exchange harnesses),
    and a cancellation of the lapsed scenario's request, which no scenario sends."""
    with tempfile.TemporaryDirectory() as tmp:
        custody = scenario_store(Path(tmp) / "seed.db")
        with custody.unit() as unit:
            rows = unit.session.query(MessageRow).order_by(MessageRow.seq).all()
            by_type = {row.type: row.envelope for row in rows}
            detainers = [json.loads(r.envelope)["data"] for r in rows if r.type.endswith("detainer.issued.v1")]
        custody.engine.dispose()
    last = detainers[-1]
    cancel = build(
        "msg_seed_cancel",
        BY_TYPE["gov.custody.request.cancelled.v1"],
        "urn:custody:federal",
        last["request_id"],
        datetime.fromisoformat("2017-03-01T09:00:00-05:00"),
        f"local:{last['agency']}",
        {"request_id": last["request_id"], "booking_id": last["booking_id"], "reason": "withdrawn"},
    )
    by_type[cancel.type.type] = cancel.to_json().decode()
    for name in ("envelope", "worker_apply"):
        folder = _fresh(name)
        for message_type, envelope in sorted(by_type.items()):
            (folder / f"{message_type.removeprefix('gov.custody.')}.json").write_text(envelope)


def rule_loader() -> None:
    folder = _fresh("rule_loader")
    federal = LIBRARY / "ocd-division" / "country:us"
    picks = [
        federal / "8-cfr-287-7.yaml",
        federal / "forms.yaml",
        federal / "jurisdiction.yaml",
        federal / "state:ca" / "county:santa_clara" / "board-policy-3-54-2011.yaml",
        federal / "state:il" / "county:cook" / "jurisdiction.yaml",
    ]
    instruments = [p for p in federal.glob("state:*/*.yaml") if p.name != "jurisdiction.yaml"]
    picks += sorted(instruments, key=lambda p: p.stat().st_size)[:3]
    for path in picks:
        shutil.copy(path, folder / "__".join(path.relative_to(LIBRARY).parts))


def edited() -> None:
    """For the harnesses that edit structurally, a copy of each seed with edit bytes after a NUL, so
    the fuzzer starts from inputs that reach the edits (fuzz/_json_edits.py)."""
    tail = b"\x00" + bytes(range(1, 250, 7))
    for name in ("decision_request", "envelope", "worker_apply", "rule_loader"):
        folder = CORPUS / name
        for path in sorted(folder.iterdir()):
            path.with_name(f"{path.stem}-edited{path.suffix}").write_bytes(path.read_bytes() + tail)


if __name__ == "__main__":
    ansi_nist()
    decision_request()
    envelopes()
    rule_loader()
    edited()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
