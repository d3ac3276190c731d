"""Minutia templates and their ISO/IEC 19794-2:2005 finger minutiae record (FMR) encoding.

A template is what an extractor saw in one image: minutiae (position in pixels from the top-left
corner, direction in degrees counter-clockwise from the x axis, kind, quality 0-100). The stored
form is the standard record so that another system, or another release of this one, can read it.
The nbis-py binding's own "ISO" writer puts a 4-byte length where the header's resolution fields
belong and omits the finger view header, so it is not used; this module writes and reads the
record as the standard lays it out:

    header (24 bytes): "FMR\\0", " 20\\0", record length (4), capture equipment (2: certification
      flag in the top 4 bits, device id in 12), width (2), height (2), x and y resolution in
      pixels per centimetre (2 + 2), number of finger views (1), reserved (1)
    per view: finger position (1), view number (4 bits) and impression type (4 bits), finger
      quality 0-100 (1), number of minutiae (1), then per minutia 6 bytes: type (2 bits: 01
      ending, 10 bifurcation, 00 other) and x (14 bits); reserved (2 bits) and y (14 bits);
      angle in units of 360/256 degrees (1); quality (1); then the extended data length (2).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

MAGIC = b"FMR\x00 20\x00"
HEADER_LENGTH = 24
VIEW_HEADER_LENGTH = 4
MINUTIA_LENGTH = 6
ANGLE_UNIT = 360 / 256
MAX_MINUTIAE = 255  # the view header counts minutiae in one byte
CM_PER_INCH = 2.54


class MinutiaKind(enum.IntEnum):
    OTHER = 0
    ENDING = 1
    BIFURCATION = 2


_KINDS = tuple(MinutiaKind)
_MINUTIA = struct.Struct(">HHBB")
# A template as it crosses to a worker process (a search sends a thousand): x, y, exact angle, kind,
# quality packed in one string rather than a pickled object per minutia.
_PACKED = struct.Struct("<iidBB")


@dataclass(frozen=True)
class Minutia:
    x: int
    y: int
    angle: float  # degrees, counter-clockwise from the x axis
    kind: MinutiaKind
    quality: int  # 0-100


@dataclass(frozen=True)
class Template:
    """One finger's minutiae with the image geometry they refer to and who extracted them."""

    width: int
    height: int
    minutiae: tuple[Minutia, ...]
    ppi: int = 500
    position: int = 0  # ANSI/NIST finger position code, 0 = unknown
    quality: int = 0  # finger quality 0-100 (NFIQ 2 when computed)
    impression: int = 0  # 0 live-scan plain, 1 live-scan rolled, 2 non-live plain, …
    extractor: str = field(default="", compare=False)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        packed = b"".join([_PACKED.pack(m.x, m.y, m.angle, m.kind, m.quality) for m in self.minutiae])
        geometry = (self.width, self.height, self.ppi, self.position, self.quality, self.impression)
        return _unpacked, (packed, *geometry, self.extractor)


def _unpacked(
    packed: bytes, width: int, height: int, ppi: int, position: int, quality: int, impression: int, extractor: str
) -> Template:
    minutiae = tuple([Minutia(x, y, a, _KINDS[k], q) for x, y, a, k, q in _PACKED.iter_unpack(packed)])
    return Template(width, height, minutiae, ppi, position, quality, impression, extractor)


class TemplateFormatError(ValueError):
    """A template record that does not follow ISO/IEC 19794-2:2005; the message names the field."""


def encode_iso(template: Template) -> bytes:
    """The single-view ISO/IEC 19794-2:2005 record; at most 255 minutiae, the best by quality."""
    minutiae = sorted(template.minutiae, key=lambda m: -m.quality)[:MAX_MINUTIAE]
    res = round(template.ppi / CM_PER_INCH)
    body = bytearray()
    body += bytes([template.position, template.impression & 0x0F, _byte(template.quality, 100), len(minutiae)])
    for m in minutiae:
        if not (0 <= m.x < 1 << 14 and 0 <= m.y < 1 << 14):
            raise ValueError(f"minutia at ({m.x}, {m.y}) is outside the 14-bit coordinate range")
        body += ((int(m.kind) << 14) | m.x).to_bytes(2, "big") + m.y.to_bytes(2, "big")
        body += bytes([round(m.angle / ANGLE_UNIT) % 256, _byte(m.quality, 100)])
    body += b"\x00\x00"  # no extended data
    length = HEADER_LENGTH + len(body)
    header = MAGIC + length.to_bytes(4, "big") + b"\x00\x00"
    header += template.width.to_bytes(2, "big") + template.height.to_bytes(2, "big")
    header += res.to_bytes(2, "big") + res.to_bytes(2, "big") + b"\x01\x00"
    return bytes(header + body)


def decode_iso(data: bytes, *, extractor: str = "") -> Template:
    """Read the first finger view of an ISO/IEC 19794-2:2005 record."""
    if len(data) < HEADER_LENGTH or data[:8] != MAGIC:
        raise TemplateFormatError("format identifier/version: not an ISO/IEC 19794-2:2005 record ('FMR\\0 20\\0')")
    length = int.from_bytes(data[8:12], "big")
    if length != len(data):
        raise TemplateFormatError(f"record length: says {length} bytes, {len(data)} present")
    width, height = int.from_bytes(data[14:16], "big"), int.from_bytes(data[16:18], "big")
    xres = int.from_bytes(data[18:20], "big")
    if xres == 0:
        raise TemplateFormatError("x resolution: 0 pixels per centimetre")
    if data[22] < 1:
        raise TemplateFormatError("number of finger views: 0")
    pos = HEADER_LENGTH
    if pos + VIEW_HEADER_LENGTH > len(data):
        raise TemplateFormatError("finger view header: truncated")
    position, view, quality, count = data[pos], data[pos + 1], data[pos + 2], data[pos + 3]
    pos += VIEW_HEADER_LENGTH
    if pos + count * MINUTIA_LENGTH + 2 > len(data):
        raise TemplateFormatError(f"minutiae: {count} announced, the record ends before them")
    minutiae = []
    # a search decodes a thousand records: one struct pass, no per-field slicing
    for i, (xword, yword, angle, score) in enumerate(_MINUTIA.iter_unpack(data[pos : pos + count * MINUTIA_LENGTH])):
        kind = xword >> 14
        if kind == 3:
            raise TemplateFormatError(f"minutia {i + 1}: type code 11 is reserved")
        minutiae.append(Minutia(xword & 0x3FFF, yword & 0x3FFF, angle * ANGLE_UNIT, _KINDS[kind], score))
    return Template(
        width=width,
        height=height,
        minutiae=tuple(minutiae),
        ppi=round(xres * CM_PER_INCH),
        position=position,
        quality=quality,
        impression=view & 0x0F,
        extractor=extractor,
    )


def _byte(value: int, top: int) -> int:
    return max(0, min(top, int(value)))
