"""Shared fixtures: the shipped sample prints and a booking transaction built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody.identity.prints.ansi_nist import BinaryRecord, Record, TaggedRecord, type4, type14, write_transaction
from custody.identity.prints.images import Capture, load, wsq_encode

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def samples() -> dict[str, Capture]:
    return {p.stem: load(p) for p in sorted(DATA.glob("*.png"))}


@pytest.fixture(scope="session")
def booking_records(samples: dict[str, Capture]) -> list[Record]:
    """Type-1, Type-2, two Type-4 and one Type-14 (WSQ), a Type-9 and a Type-7: what a booking sends."""
    right_thumb, right_index = samples["p1_1"], samples["p2_1"]
    header = TaggedRecord(1, {2: b"0201", 4: b"CAR", 5: b"20170816", 7: b"ILCPD0000", 8: b"IL0160000", 9: b"TCN1"})
    return [
        header,
        TaggedRecord(2, {2: b"0", 18: b"DOE, JOHN", 22: b"19800101"}),
        type4(1, 1, right_thumb.width, right_thumb.height, wsq_encode(right_thumb)),
        type4(2, 2, right_index.width, right_index.height, wsq_encode(right_index)),
        type14(
            3, 7, right_index.width, right_index.height, wsq_encode(right_index), source="ILCPD0000", date="20170816"
        ),
        TaggedRecord(9, {2: b"4", 3: b"U", 4: b"S"}),
        BinaryRecord(7, 5, b"", b"vendor data"),
    ]


@pytest.fixture(scope="session")
def booking_file(booking_records: list[Record]) -> bytes:
    return write_transaction(booking_records)
