from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custody.identity.prints.templates import (
    ANGLE_UNIT,
    Minutia,
    MinutiaKind,
    Template,
    TemplateFormatError,
    decode_iso,
    encode_iso,
)

minutiae = st.builds(
    Minutia,
    x=st.integers(0, 799),
    y=st.integers(0, 749),
    angle=st.integers(0, 255).map(lambda a: a * ANGLE_UNIT),
    kind=st.sampled_from(list(MinutiaKind)),
    quality=st.integers(0, 100),
)
templates = st.builds(
    Template,
    width=st.just(800),
    height=st.just(750),
    minutiae=st.lists(minutiae, max_size=80).map(lambda ms: tuple(sorted(ms, key=lambda m: -m.quality))),
    ppi=st.just(500),
    position=st.integers(0, 10),
    quality=st.integers(0, 100),
    impression=st.integers(0, 3),
)


@given(templates)
def test_iso_record_round_trips(template: Template) -> None:
    assert decode_iso(encode_iso(template)) == template


def test_header_follows_the_standard_layout() -> None:
    template = Template(400, 500, (Minutia(54, 333, 45.0, MinutiaKind.ENDING, 14),), position=2, quality=60)
    record = encode_iso(template)
    assert record[:8] == b"FMR\x00 20\x00"
    assert int.from_bytes(record[8:12], "big") == len(record) == 24 + 4 + 6 + 2
    assert int.from_bytes(record[14:16], "big") == 400
    assert int.from_bytes(record[16:18], "big") == 500
    assert int.from_bytes(record[18:20], "big") == int.from_bytes(record[20:22], "big") == 197  # px/cm at 500 ppi
    assert record[22] == 1  # one finger view
    assert list(record[24:28]) == [2, 0, 60, 1]
    assert record[28:34] == bytes([0x40, 54, 0x01, 0x4D, 32, 14])  # ending, x 54, y 333, 45°, quality 14
    assert record[34:] == b"\x00\x00"


def test_keeps_the_best_255_minutiae() -> None:
    many = tuple(Minutia(i, i, 0.0, MinutiaKind.ENDING, i % 101) for i in range(300))
    decoded = decode_iso(encode_iso(Template(400, 400, many)))
    assert len(decoded.minutiae) == 255
    assert min(m.quality for m in decoded.minutiae) >= min(sorted((m.quality for m in many), reverse=True)[:255])


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda r: b"XYZ" + r[3:], "format identifier"),
        (lambda r: r[:-3], "record length"),
        (lambda r: r[:18] + b"\x00\x00" + r[20:], "x resolution"),
        (lambda r: r[:22] + b"\x00" + r[23:], "finger views"),
    ],
)
def test_malformed_records_name_the_field(mangle: object, field: str) -> None:
    record = encode_iso(Template(400, 500, (Minutia(1, 2, 0.0, MinutiaKind.BIFURCATION, 50),)))
    assert callable(mangle)
    with pytest.raises(TemplateFormatError, match=field):
        decode_iso(mangle(record))


def test_announced_minutiae_beyond_the_record_are_refused() -> None:
    record = bytearray(encode_iso(Template(400, 500, (Minutia(1, 2, 0.0, MinutiaKind.BIFURCATION, 50),))))
    record[27] = 9
    with pytest.raises(TemplateFormatError, match="9 announced"):
        decode_iso(bytes(record))
