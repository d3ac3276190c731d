"""Finger images as grey pixels: plain image files, WSQ, and the images inside ANSI/NIST records.

Everything downstream (quality, extraction, enhancement) works on one form, an 8-bit grey array
with its resolution, so a capture reads the same whether it came from a scanner's PNG, a WSQ file
or a Type-4/14 record.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import _wsq  # type: ignore[import-not-found]  # the NBIS WSQ codec shipped by the `wsq` package
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from custody.identity.prints.ansi_nist import FingerImage

WSQ_MAGIC = b"\xff\xa0"
WSQ_BITRATE = 0.75  # FBI IAFIS-IC-0110: 0.75 bits per pixel, about 15:1
Pixels = npt.NDArray[np.uint8]


class UnreadableImage(ValueError):
    """An image that cannot be decoded; the message says what was wrong with it."""


@dataclass(frozen=True)
class Capture:
    """An 8-bit grey finger image (rows × columns) at ``ppi`` pixels per inch."""

    pixels: Pixels
    ppi: int = 500

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def decode(data: bytes, *, name: str = "image") -> Capture:
    """A capture from file bytes: WSQ by its start-of-image marker, anything else through Pillow."""
    if data[:2] == WSQ_MAGIC:
        return wsq_decode(data, name=name)
    try:
        with Image.open(io.BytesIO(data)) as image:
            grey = image.convert("L")
            dpi = image.info.get("dpi", (500, 500))[0]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableImage(f"{name}: not a readable image ({exc})") from None
    return Capture(np.asarray(grey, dtype=np.uint8), ppi=round(dpi) if dpi and dpi > 72 else 500)


def load(path: Path) -> Capture:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableImage(f"{path}: {exc.strerror or exc}") from None
    return decode(data, name=str(path))


def wsq_decode(data: bytes, *, name: str = "WSQ image") -> Capture:
    try:
        raw, width, height, ppi = _wsq.decompress(data)
    except Exception as exc:  # the codec raises bare Exception("WSQ Error: -n")
        raise UnreadableImage(f"{name}: WSQ data cannot be decoded ({exc})") from None
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width)
    return Capture(pixels, ppi=ppi if ppi > 0 else 500)


def wsq_encode(capture: Capture) -> bytes:
    """WSQ at the FBI's 0.75 bpp: the record of truth a booking keeps and sends."""
    data: bytes = _wsq.compress(capture.pixels.tobytes(), capture.height, capture.width, WSQ_BITRATE)
    return data


def from_record(finger: FingerImage) -> Capture:
    """Decode the image of a Type-3/4/13/14 record; bi-level Types 5 and 6 carry no grey image."""
    where = f"Type-{finger.record_type} record (IDC {finger.idc})"
    if finger.compression == "NONE" and finger.record_type in (3, 4, 13, 14):
        expected = finger.width * finger.height
        if len(finger.data) != expected:
            raise UnreadableImage(f"{where}: {len(finger.data)} bytes of raw pixels, {expected} expected")
        return Capture(np.frombuffer(finger.data, dtype=np.uint8).reshape(finger.height, finger.width), finger.ppi)
    if finger.compression in ("WSQ", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG"):
        capture = decode(finger.data, name=where)
        return Capture(capture.pixels, finger.ppi)
    raise UnreadableImage(f"{where}: {finger.compression} images are not decoded for comparison")


def encode_for_extractor(capture: Capture) -> bytes:
    """Uncompressed BMP: the cheapest container the NBIS binding accepts."""
    out = io.BytesIO()
    Image.fromarray(capture.pixels, mode="L").save(out, format="BMP")
    return out.getvalue()
