"""ANSI/NIST-ITL transactions in the traditional encoding, as a booking station submits them.

A transaction is a Type-1 header whose CNT field (1.003) lists every following record, then the
records themselves: tagged-field records (Types 1, 2, 9, 10, 13, 14, …: ``T.FFF:value`` fields
separated by GS, the record ended by FS, binary image data in field 999) and the binary records of
versions 2 and 3 (Types 3 to 8: a 4-byte length, a 1-byte IDC and fixed fields). The reader keeps
every record so a transaction can be exported again unchanged; it checks every length against the
bytes present and names the record and field of the first thing that does not add up, because a
booking officer must know which part of a submission to redo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

FS, GS, RS, US = b"\x1c", b"\x1d", b"\x1e", b"\x1f"
BINARY_TYPES = frozenset({3, 4, 5, 6, 7, 8})
FINGER_IMAGE_TYPES = frozenset({3, 4, 5, 6, 13, 14})
IMAGE_HEADER_TYPES = frozenset({3, 4, 5, 6})
FINGERS = range(1, 11)  # FGP 1 (right thumb) to 10 (left little); 0 is unknown, 11-15 plain thumbs and slaps
_IMAGE_HEADER = 18  # LEN 4, IDC 1, IMP 1, FGP 6, ISR 1, HLL 2, VLL 2, GCA 1
_TAG = re.compile(rb"(\d+)\.(\d+):")

# Binary records (Types 3-6) code compression in one byte; tagged records (13, 14) spell it out.
_BINARY_COMPRESSION = {0: "NONE", 1: "WSQ", 2: "JPEGB", 3: "JPEGL", 4: "JP2", 5: "JP2L", 6: "PNG"}
_BILEVEL_COMPRESSION = {0: "NONE", 1: "FAX"}  # Types 5 and 6: BCA 1 is ANSI/EIA-538 facsimile coding
_TAGGED_COMPRESSION = {"WSQ20": "WSQ", "WSQ": "WSQ", "NONE": "NONE", "JPEGB": "JPEGB", "JPEGL": "JPEGL"}
_TAGGED_COMPRESSION |= {"JP2": "JP2", "JP2L": "JP2L", "PNG": "PNG"}


class NistFormatError(ValueError):
    """A transaction that cannot be read, naming the record and field at fault (one line)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class TaggedRecord:
    """A tagged-field record; ``fields`` maps field number to raw value (LEN excluded, computed on write)."""

    type: int
    fields: Mapping[int, bytes]

    @property
    def idc(self) -> int:
        """Type-1 carries no IDC; the CNT convention gives it 0."""
        if self.type == 1:
            return 0
        return int(self.text(2) or 0)

    def text(self, number: int) -> str:
        return self.fields.get(number, b"").decode("latin-1")

    def subfields(self, number: int) -> list[list[str]]:
        """A field's repeated subfields, each split into its information items."""
        return [sub.split(US.decode()) for sub in self.text(number).split(RS.decode())]


@dataclass(frozen=True)
class BinaryRecord:
    """A binary record of Types 3 to 8: ``header`` is what follows LEN and IDC before ``data``.

    For the image records (3 to 6) the header is IMP, FGP (6 bytes), ISR, HLL, VLL and GCA/BCA; for
    Types 7 and 8 everything after the IDC is kept as data.
    """

    type: int
    idc: int
    header: bytes
    data: bytes


Record = TaggedRecord | BinaryRecord


@dataclass(frozen=True)
class FingerImage:
    """One friction-ridge image record as recorded: where it is, what finger, how it is coded."""

    record_type: int
    idc: int
    position: int
    compression: str
    width: int
    height: int
    ppi: int
    data: bytes

    def summary(self) -> dict[str, object]:
        return {
            "record_type": self.record_type,
            "idc": self.idc,
            "position": self.position,
            "compression": self.compression,
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class Transaction:
    """A whole file: the Type-1 header first, then every record in the order CNT lists them.

    Its finger records are read when it is built, so a malformed field (a position 'abc') is refused
    with the file, before a command goes on with it (found by a review: listing them later crashed)."""

    records: tuple[Record, ...]
    _type1: TaggedRecord = field(init=False, repr=False, compare=False)
    _fingers: tuple[FingerImage, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first = self.records[0] if self.records else None
        if not isinstance(first, TaggedRecord) or first.type != 1:
            raise ValueError("a transaction starts with its Type-1 record")
        object.__setattr__(self, "_type1", first)
        fingers = tuple(finger_image(r) for r in self.records if r.type in FINGER_IMAGE_TYPES)
        object.__setattr__(self, "_fingers", fingers)

    @property
    def version(self) -> str:
        return self._type1.text(2)

    @property
    def header(self) -> TaggedRecord:
        return self._type1

    def fingers(self) -> list[FingerImage]:
        return list(self._fingers)

    def summary(self) -> dict[str, object]:
        """The ``custody prints inspect --json`` document."""
        return {
            "version": self.version,
            "records": [{"type": r.type, "idc": r.idc} for r in self.records],
            "fingers": [f.summary() for f in self.fingers()],
        }


def finger_image(record: Record) -> FingerImage:
    """The image record's finger position (first FGP value), size, resolution and compression."""
    if isinstance(record, BinaryRecord):
        h = record.header
        codes = _BINARY_COMPRESSION if record.type in (3, 4) else _BILEVEL_COMPRESSION
        return FingerImage(
            record_type=record.type,
            idc=record.idc,
            position=h[1],
            compression=codes.get(h[12], f"code {h[12]}"),
            width=int.from_bytes(h[8:10], "big"),
            height=int.from_bytes(h[10:12], "big"),
            ppi=250 if record.type in (3, 5) else 500,  # the nominal (ISR 0) rates of the low/high-resolution types
            data=record.data,
        )
    where = f"Type-{record.type} record (IDC {record.idc})"
    t = record.type
    cga = record.text(11).strip().upper()
    ppi = _ppi(record)
    return FingerImage(
        record_type=t,
        idc=record.idc,
        position=_int_field(record, 13, where, first_item=True),
        compression=_TAGGED_COMPRESSION.get(cga, cga or "NONE"),
        width=_int_field(record, 6, where),
        height=_int_field(record, 7, where),
        ppi=ppi,
        data=record.fields.get(999, b""),
    )


def _ppi(record: TaggedRecord) -> int:
    """Horizontal pixel density as stated, from SLC (1 = ppi, 2 = pixels per cm) and THPS; 500 when
    unstated. One no scanner has is read as 500 ppi when the image is decoded (``images.from_record``)."""
    try:
        slc, thps = int(record.text(8)), int(record.text(9))
    except ValueError:
        return 500
    if slc == 1:
        return thps
    return round(thps * 2.54) if slc == 2 else 500


def _int_field(record: TaggedRecord, number: int, where: str, *, first_item: bool = False) -> int:
    """A count or code: ASCII digits only (``int`` also takes '-5', '+5', ' 5' and '5_0')."""
    raw = record.subfields(number)[0][0] if first_item else record.text(number)
    if not (raw.isascii() and raw.isdigit()):
        raise NistFormatError(f"{where}, field {record.type}.{number:03d}", f"expected a number, found {raw!r}")
    return int(raw)


def not_one_finger(position: int) -> str | None:
    """Why a finger position cannot be compared (None: it can). A search compares like fingers, so an
    unknown finger (0), a slap of several (13-15) or a plain thumb (11, 12: its rolled print is 1 or
    6) would be compared with nothing the gallery holds, and answer 'no hit' (found by a review)."""
    if position in FINGERS:
        return None
    return f"finger position {position} is not 1-10 (1 = right thumb ... 10 = left little)"


# --- reading -----------------------------------------------------------------------------------


def read_transaction(data: bytes) -> Transaction:
    """Parse a whole file; raises :class:`NistFormatError` naming the first record/field at fault."""
    if not data.startswith(b"1.001:"):
        what = "the file is empty" if not data else "missing: the file does not start with it"
        raise NistFormatError(
            "record 1 (Type-1), field 1.001 LEN", f"{what}, so it is not an ANSI/NIST-ITL transaction"
        )
    type1, pos = _read_tagged(data, 0, 1, "record 1 (Type-1)")
    version = type1.text(2)
    if not re.fullmatch(r"\d{4}", version):
        raise NistFormatError("record 1 (Type-1), field 1.002 VER", f"expected a 4-digit version, found {version!r}")
    listed = list(_content(type1))
    records: list[Record] = [type1]
    for index, (rtype, idc) in enumerate(listed, start=2):
        where = f"record {index} (Type-{rtype}, IDC {idc})"
        if pos >= len(data):
            problem = f"missing: field 1.003 CNT lists {len(listed) + 1} records, the file ends after {index - 1}"
            raise NistFormatError(where, problem)
        record: Record
        if rtype in BINARY_TYPES:
            record, pos = _read_binary(data, pos, rtype, where)
        else:
            record, pos = _read_tagged(data, pos, rtype, where)
        if record.idc != idc:
            raise NistFormatError(f"{where}, IDC", f"record carries IDC {record.idc}, field 1.003 CNT lists {idc}")
        records.append(record)
    if pos != len(data):
        raise NistFormatError(f"after record {len(records)}", f"{len(data) - pos} bytes not listed in field 1.003 CNT")
    return Transaction(tuple(records))


def _content(type1: TaggedRecord) -> Iterator[tuple[int, int]]:
    """The (type, IDC) of every record after Type-1, from CNT; its first subfield gives their number."""
    where = "record 1 (Type-1), field 1.003 CNT"
    subs = type1.subfields(3)
    try:
        pairs = [(int(s[0]), int(s[1])) for s in subs]
    except (ValueError, IndexError):
        raise NistFormatError(where, f"expected subfields 'type<US>idc', found {type1.text(3)!r}") from None
    if pairs[0][0] != 1 or pairs[0][1] != len(pairs) - 1:
        raise NistFormatError(where, f"first subfield says {pairs[0][1]} records, {len(pairs) - 1} are listed")
    yield from pairs[1:]


def _read_tagged(data: bytes, start: int, rtype: int, where: str) -> tuple[TaggedRecord, int]:
    head = _TAG.match(data, start)
    if head is None or int(head.group(2)) != 1:
        raise NistFormatError(f"{where}, field {rtype}.001 LEN", "missing: the record does not start with LEN")
    if int(head.group(1)) != rtype:
        raise NistFormatError(f"{where}, field {rtype}.001 LEN", f"tag says Type-{int(head.group(1))}")
    end_len = _separator(data, head.end())
    length = _length(data[head.end() : end_len], f"{where}, field {rtype}.001 LEN")
    end = start + length
    if end > len(data):
        raise NistFormatError(
            f"{where}, field {rtype}.001 LEN", f"says {length} bytes but only {len(data) - start} remain (truncated)"
        )
    if data[end - 1 : end] != FS:
        raise NistFormatError(f"{where}, field {rtype}.001 LEN", f"record of {length} bytes does not end with FS")
    fields: dict[int, bytes] = {}
    pos = end_len + 1
    while pos < end:
        tag = _TAG.match(data, pos)
        if tag is None or int(tag.group(1)) != rtype:
            raise NistFormatError(f"{where}, after field {rtype}.{max(fields, default=1):03d}", "malformed field tag")
        number = int(tag.group(2))
        if not 1 <= number <= 999:
            raise NistFormatError(f"{where}, field {rtype}.{number}", "field numbers run from 1 to 999")
        if number in fields or number == 1:
            raise NistFormatError(f"{where}, field {rtype}.{number:03d}", "appears twice in the record")
        stop = end - 1 if number == 999 else _separator(data, tag.end(), end)
        fields[number] = data[tag.end() : stop]
        pos = stop + 1
    if rtype != 1 and 2 not in fields:
        raise NistFormatError(f"{where}, field {rtype}.002 IDC", "missing")
    if rtype != 1 and not fields[2].decode("latin-1").strip().isdigit():
        raise NistFormatError(f"{where}, field {rtype}.002 IDC", f"'{fields[2].decode('latin-1')}' is not a number")
    return TaggedRecord(rtype, fields), end


def _separator(data: bytes, pos: int, end: int | None = None) -> int:
    """Index of the next GS or FS: the end of a text field."""
    stop = len(data) if end is None else end
    found = [i for i in (data.find(GS, pos, stop), data.find(FS, pos, stop)) if i >= 0]
    return min(found) if found else stop


def _length(raw: bytes, where: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        found = repr(raw[:20].decode("latin-1")) if raw else "the end of the file"
        raise NistFormatError(where, f"expected a byte count, found {found}")
    return int(raw)


def _read_binary(data: bytes, start: int, rtype: int, where: str) -> tuple[BinaryRecord, int]:
    lenfield = f"{where}, field {rtype}.001 LEN"
    if start + 5 > len(data):
        raise NistFormatError(lenfield, "truncated: the 4-byte length and IDC are incomplete")
    length = int.from_bytes(data[start : start + 4], "big")
    header = _IMAGE_HEADER if rtype in IMAGE_HEADER_TYPES else 5
    if length < header:
        raise NistFormatError(lenfield, f"says {length} bytes, shorter than the {header}-byte header")
    if start + length > len(data):
        raise NistFormatError(lenfield, f"says {length} bytes but only {len(data) - start} remain (truncated)")
    body = data[start : start + length]
    record = BinaryRecord(rtype, body[4], body[5:header], body[header:])
    return record, start + length


# --- writing -----------------------------------------------------------------------------------


def write_transaction(records: list[Record]) -> bytes:
    """Encode ``records`` (Type-1 first); CNT and every LEN are recomputed from the records given."""
    if not records or not isinstance(records[0], TaggedRecord) or records[0].type != 1:
        raise ValueError("a transaction starts with its Type-1 record")
    rest = records[1:]
    cnt = RS.join([b"1" + US + str(len(rest)).encode()] + [f"{r.type}".encode() + US + b"%d" % r.idc for r in rest])
    type1 = TaggedRecord(1, {**records[0].fields, 3: cnt})
    return b"".join(encode_record(r) for r in [type1, *rest])


def encode_record(record: Record) -> bytes:
    if isinstance(record, BinaryRecord):
        length = 5 + len(record.header) + len(record.data)
        return length.to_bytes(4, "big") + bytes([record.idc]) + record.header + record.data
    t = record.type
    body = b"".join(
        b"%d.%03d:" % (t, n) + value + (FS if n == 999 else GS) for n, value in sorted(record.fields.items()) if n != 1
    )
    if not body.endswith(FS):
        body = body[:-1] + FS
    digits = 1
    while True:  # LEN counts its own digits, so settle the width first
        length = len(b"%d.001:" % t) + digits + 1 + len(body)
        if len(str(length)) == digits:
            return b"%d.001:%d" % (t, length) + GS + body
        digits = len(str(length))


def type4(idc: int, position: int, width: int, height: int, wsq: bytes, impression: int = 0) -> BinaryRecord:
    """A Type-4 high-resolution grayscale finger image, WSQ-compressed (GCA 1)."""
    fgp = bytes([position, 255, 255, 255, 255, 255])
    header = bytes([impression]) + fgp + bytes([1]) + width.to_bytes(2, "big") + height.to_bytes(2, "big") + b"\x01"
    return BinaryRecord(4, idc, header, wsq)


def type14(idc: int, position: int, width: int, height: int, wsq: bytes, *, source: str, date: str) -> TaggedRecord:
    """A Type-14 variable-resolution finger image at 500 ppi, WSQ-compressed (CGA WSQ20)."""
    values = {
        2: b"%d" % idc,
        3: b"0",  # live-scan plain
        4: source.encode("latin-1"),
        5: date.encode("ascii"),
        6: b"%d" % width,
        7: b"%d" % height,
        8: b"1",  # SLC: pixels per inch
        9: b"500",
        10: b"500",
        11: b"WSQ20",
        12: b"8",
        13: b"%d" % position,
        999: wsq,
    }
    return TaggedRecord(14, values)
