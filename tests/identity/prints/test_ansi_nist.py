from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custody.identity.prints.ansi_nist import (
    FINGER_IMAGE_TYPES,
    BinaryRecord,
    NistFormatError,
    Record,
    TaggedRecord,
    encode_record,
    read_transaction,
    write_transaction,
)
from custody.identity.prints.images import from_record


def test_reads_back_every_record_it_wrote(booking_records: list[Record], booking_file: bytes) -> None:
    transaction = read_transaction(booking_file)
    assert transaction.version == "0201"
    assert [(r.type, r.idc) for r in transaction.records] == [(r.type, r.idc) for r in booking_records]
    assert transaction.records[1:] == tuple(booking_records[1:])


def test_rewrites_a_read_file_byte_for_byte(booking_file: bytes) -> None:
    assert write_transaction(list(read_transaction(booking_file).records)) == booking_file


def test_summary_lists_fingers_with_recorded_position_and_size(
    booking_records: list[Record], booking_file: bytes
) -> None:
    summary = read_transaction(booking_file).summary()
    images = [r for r in booking_records if r.type in FINGER_IMAGE_TYPES]
    assert summary["records"][0] == {"type": 1, "idc": 0}
    fingers = summary["fingers"]
    assert isinstance(fingers, list)
    assert [(f["record_type"], f["idc"], f["compression"]) for f in fingers] == [(r.type, r.idc, "WSQ") for r in images]
    assert [f["position"] for f in fingers] == [1, 2, 7]


def test_finger_images_decode_to_the_recorded_size(booking_file: bytes) -> None:
    for finger in read_transaction(booking_file).fingers():
        capture = from_record(finger)
        assert (capture.width, capture.height) == (finger.width, finger.height)


def test_lists_binary_image_types_3_5_6_with_their_position() -> None:
    def image(rtype: int, idc: int, position: int) -> BinaryRecord:
        header = bytes([0, position, 255, 255, 255, 255, 255, 0]) + (8).to_bytes(2, "big") + (2).to_bytes(2, "big")
        return BinaryRecord(rtype, idc, header + b"\x00", bytes(16))

    records: list[Record] = [TaggedRecord(1, {2: b"0300"}), image(3, 1, 4), image(5, 2, 5), image(6, 3, 6)]
    fingers = read_transaction(write_transaction(records)).summary()["fingers"]
    assert fingers == [
        {"record_type": t, "idc": i, "position": p, "compression": "NONE", "width": 8, "height": 2}
        for t, i, p in [(3, 1, 4), (5, 2, 5), (6, 3, 6)]
    ]


@pytest.mark.parametrize("keep", [0.999, 0.7, 0.5, 0.2])
def test_truncated_file_names_the_record_and_field(booking_file: bytes, keep: float) -> None:
    cut = booking_file[: int(len(booking_file) * keep)]
    with pytest.raises(NistFormatError) as caught:
        read_transaction(cut)
    message = str(caught.value)
    assert "\n" not in message
    assert "record" in message
    assert "field" in message or "missing" in message


def test_truncated_image_record_is_named(booking_file: bytes) -> None:
    type1, type2 = read_transaction(booking_file).records[:2]
    type4_start = len(encode_record(type1)) + len(encode_record(type2))
    with pytest.raises(NistFormatError, match=r"record 3 \(Type-4, IDC 1\), field 4\.001 LEN: says \d+ bytes"):
        read_transaction(booking_file[: type4_start + 100])


def test_count_field_that_does_not_add_up_is_named() -> None:
    bad = write_transaction([TaggedRecord(1, {2: b"0201"})]).replace(b"1.003:1\x1f0", b"1.003:1\x1f3")
    with pytest.raises(NistFormatError, match=r"1\.003 CNT"):
        read_transaction(bad)


def test_non_numeric_image_size_is_named(booking_records: list[Record]) -> None:
    type14 = next(r for r in booking_records if r.type == 14)
    assert isinstance(type14, TaggedRecord)
    broken = TaggedRecord(14, {**type14.fields, 6: b"wide"})
    data = write_transaction([booking_records[0], broken])
    with pytest.raises(NistFormatError, match=r"Type-14 record \(IDC 3\), field 14\.006"):
        read_transaction(data).fingers()


@pytest.mark.parametrize(("number", "value"), [(13, b"abc"), (6, b""), (7, b"-5"), (13, b"\xb2")])
def test_a_malformed_finger_field_is_refused_when_the_file_is_read(
    booking_records: list[Record], number: int, value: bytes
) -> None:
    """Found by a review: the field was read only when the fingers were listed, after the commands'
    checks, so `custody prints inspect` crashed on it."""
    type14 = next(r for r in booking_records if r.type == 14)
    assert isinstance(type14, TaggedRecord)
    data = write_transaction([booking_records[0], TaggedRecord(14, {**type14.fields, number: value})])
    with pytest.raises(NistFormatError, match=rf"Type-14 record \(IDC 3\), field 14\.{number:03d}: expected a number"):
        read_transaction(data)


def test_garbage_is_refused_at_the_type1_length() -> None:
    with pytest.raises(NistFormatError, match=r"record 1 \(Type-1\), field 1\.001 LEN: missing: the file does not"):
        read_transaction(b"\x89PNG not a transaction")
    with pytest.raises(NistFormatError, match="the file is empty, so it is not an ANSI/NIST-ITL transaction"):
        read_transaction(b"")


_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40)


@given(st.dictionaries(st.integers(min_value=3, max_value=998), _text, max_size=12))
def test_type2_fields_round_trip(fields: dict[int, str]) -> None:
    record = TaggedRecord(2, {2: b"1", **{k: v.encode() for k, v in fields.items()}})
    data = write_transaction([TaggedRecord(1, {2: b"0500"}), record])
    back = read_transaction(data).records[1]
    assert isinstance(back, TaggedRecord)
    assert dict(back.fields) == dict(record.fields)
