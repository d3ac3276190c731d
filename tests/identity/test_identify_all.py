"""A claimed batch of submissions is answered exactly as one message at a time: the misses are kept
together, each hit is answered in its turn, and its rap sheet holds the bookings before it."""

from __future__ import annotations

from typing import Any

from custody.identity.commands import IdentityIn
from custody.service import Custody
from tests.identity.fingerprints import booking

ARRESTS = [  # (name, identifiers): the repository knows FBI 777X
    ("Ames", {"sid": "IL1"}),
    ("Doe", {"fbi": "777X"}),
    ("Bell", {"sid": "IL1"}),
    ("Roe", {"fbi": "777X", "sid": "IL9"}),
    ("Cole", {}),
]


def _book_all(custody: Custody, prefix: str, day: str) -> list[str]:
    return [
        custody.book(booking(f"{prefix}-{i}", f"{day}T1{i}:00:00-05:00", name, "Jan", ids)).id
        for i, (name, ids) in enumerate(ARRESTS)
    ]


def _answers(custody: Custody, booking_ids: list[str]) -> list[list[tuple[str, Any]]]:
    """What each booking's timeline says of its identification, booking ids replaced by positions."""
    position = {b: i for i, b in enumerate(booking_ids)}
    said = []
    for booking_id in booking_ids:
        view = custody.booking_view(booking_id)
        events = []
        for e in view["timeline"]:
            if e["type"] == "IdentityMatched":
                events.append((e["type"], [position.get(s["booking_id"]) for s in e["data"]["rap_sheet"]]))
            elif e["type"] == "IdentificationReceived":
                events.append((e["type"], e["data"]["hit"]))
        said.append([(view["identity_id"] is not None, None), *events])
    return said


def test_a_batch_is_answered_as_one_message_at_a_time(custody: Custody) -> None:
    custody.enrol(IdentityIn(names=["DOE, Jan"], identifiers={"fbi": "777X"}, record={"a_number": "A000000777"}))
    queued = Custody(custody.engine, custody.clock, actor="test", inline=False)
    together = _book_all(queued, "T", "2017-08-01")
    queued.deliver()  # the federal side takes all five submissions in one claimed batch
    assert _answers(custody, together) == [
        [(False, None), ("IdentificationReceived", False)],
        [(True, None), ("IdentityMatched", []), ("IdentificationReceived", True)],  # not the later Roe
        [(False, None), ("IdentificationReceived", False)],
        [(True, None), ("IdentityMatched", [1]), ("IdentificationReceived", True)],  # Doe, submitted before
        [(False, None), ("IdentificationReceived", False)],
    ]
    alone = _book_all(custody, "A", "2017-08-02")  # inline: one at a time, the day after
    assert [a[1:] for a in _answers(custody, alone)] == [
        [("IdentificationReceived", False)],
        [("IdentityMatched", [None, None]), ("IdentificationReceived", True)],  # the day before's Doe and Roe
        [("IdentificationReceived", False)],
        [("IdentityMatched", [None, None, 1]), ("IdentificationReceived", True)],
        [("IdentificationReceived", False)],
    ]
    assert all(r.ok for r in custody.verify_audit())
