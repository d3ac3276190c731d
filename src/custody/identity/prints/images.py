"""Finger images as grey pixels: plain image files, WSQ, and the images inside ANSI/NIST records.

Everything downstream (quality, extraction, enhancement) works on one form, an 8-bit grey array
with its resolution, so a capture reads the same whether it came from a scanner's PNG, a WSQ file
or a Type-4/14 record.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
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
DEFAULT_PPI = 500
MIN_SCANNER_PPI, MAX_SCANNER_PPI = 250, 2000
TYPICAL_PERIOD_PX = 10.0  # an adult's ridge period at 500 ppi: 8.2–13.3 pixels measured on FVC2004 DB1_B/DB2_B
# A finger at 1,000 ppi is about 1,000 × 1,500 pixels; a rolled ten-print card's whole scan about
# 4,000 × 4,000. Enhancing takes about 100 bytes a pixel, so a larger "finger" image would take
# gigabytes of memory for nothing.
MAX_PIXELS = 4000 * 4000


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
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableImage(
                    f"{name}: {width}×{height} pixels is larger than any one finger's image; crop it to the finger"
                )
            grey = _grey(image)
            dpi = float(image.info.get("dpi", (DEFAULT_PPI, DEFAULT_PPI))[0])
    except UnreadableImage:
        raise
    except UnidentifiedImageError:
        raise UnreadableImage(f"{name}: not an image custody reads (PNG, JPEG, TIFF, BMP or WSQ)") from None
    except Exception as exc:  # Pillow's decoders raise SyntaxError, struct.error, DecompressionBombError…
        raise UnreadableImage(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from None
    return Capture(grey, ppi=_scanner_ppi(dpi))


def _grey(image: Image.Image) -> Pixels:
    """8-bit grey. Pillow's own conversion clips 16-bit, 32-bit and float samples to 0–255, which
    leaves a 16-bit scan (or 12 bits in a 16-bit container, or floats from 0 to 1) all white: such
    samples are stretched from their darkest to their lightest instead."""
    if image.mode.startswith(("I", "F")):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        if high > 255 or (image.mode == "F" and high <= 1):
            return np.round((values - low) * (255 / max(high - low, 1e-9))).astype(np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _scanner_ppi(recorded: float) -> int:
    """The resolution a file records, unless no fingerprint scanner would have it.

    Image tools stamp 72 or 96 dpi (a screen's) on files they convert; taken at face value that
    would make every ridge five times too far apart. Such a value means "unknown", and unknown
    means 500 ppi, the resolution of the FBI's live-scan standard and of nearly every sensor. (A
    stamp a scanner could have, such as 300 dpi, is weighed against the ridges by
    ``resolutions_of``, for a set of files from one sensor.)
    """
    if not MIN_SCANNER_PPI <= recorded <= MAX_SCANNER_PPI:
        return DEFAULT_PPI
    return round(recorded)


def resolutions_of(paths: Sequence[str], sample: int = 15) -> dict[int, int]:
    """For image files compared together, the resolution to read them at where their ridges say
    otherwise than their files: {read at: meant}. An adult's ridges lie about 0.5 mm apart (8–13
    pixels at 500 ppi on FVC2004's sensors), so the files read at one resolution are judged together
    by the median ridge period of a sample of them: one decision for all, as a set read half at one
    resolution and half at another compares worse than either.

    - A resolution a converter stamps but a scanner could have (300 dpi on 500 ppi prints: EER 2.9 →
      11.8 % on FVC2004 DB1_B) is kept only if it explains the ridges better than 500 ppi does.
    - Files that record no resolution (or 500) are read at 500 ppi unless their ridges are half or
      twice as far apart as that predicts (a 250 or 1,000 ppi sensor): then at the resolution the
      ridges give, and resampled (``at_500_ppi``).
    - A recorded resolution within a quarter of 500 ppi (569 ppi: FVC2002 DB2) is taken as it is."""
    groups: dict[int, list[str]] = {}
    for path in paths:
        ppi = _read_at(path)
        if ppi is not None and (ppi == DEFAULT_PPI or not 0.8 <= ppi / DEFAULT_PPI <= 1.25):
            groups.setdefault(ppi, []).append(path)
    meant: dict[int, int] = {}
    for ppi, files in groups.items():
        step = max(1, len(files) // sample)
        periods = [p for f in files[::step][:sample] if (p := _period_of(f)) is not None]
        if not periods:
            continue
        ratio = float(np.median(periods)) / TYPICAL_PERIOD_PX  # the ridges' resolution, as a share of 500 ppi
        if ppi == DEFAULT_PPI:
            # Outside 7.1–14.1 pixels, 250 or 1,000 ppi (the sensors' other standard resolutions)
            # explains the ridges better than 500. The measure runs short on wide ridges (17 pixels
            # for 20), so it chooses between the standards rather than giving a resolution itself.
            if ratio < 1 / math.sqrt(2):
                meant[ppi] = DEFAULT_PPI // 2
            elif ratio > math.sqrt(2):
                meant[ppi] = DEFAULT_PPI * 2
        elif abs(math.log(ratio)) < abs(math.log(ratio * DEFAULT_PPI / ppi)):
            meant[ppi] = DEFAULT_PPI  # between 300 and 500 ppi the line falls at 7.7 pixels
    return meant


def _read_at(path: str) -> int | None:
    """The resolution an image file will be read at, from its header alone (None if Pillow cannot
    open it: a WSQ file, or not an image, which is refused with its reason when it is extracted)."""
    try:
        with Image.open(path) as image:
            dpi = image.info.get("dpi")
    except Exception:
        return None
    return _scanner_ppi(float(dpi[0])) if dpi else DEFAULT_PPI


def _period_of(path: str) -> float | None:
    try:
        return ridge_period(load(Path(path)).pixels)
    except UnreadableImage:
        return None


def ridge_period(pixels: Pixels, tile: int = 64) -> float | None:
    """The ridge-to-ridge distance in pixels: the median, over the tiles of the strongest contrast
    (the print, not the background), of the dominant spatial frequency of each. None for an image
    smaller than a tile."""
    height, width = pixels.shape
    if height < tile or width < tile:
        return None
    image = pixels.astype(np.float64)
    corners = [(y, x) for y in range(0, height - tile + 1, tile // 2) for x in range(0, width - tile + 1, tile // 2)]
    corners.sort(key=lambda c: -float(image[c[0] : c[0] + tile, c[1] : c[1] + tile].std()))
    window = np.outer(np.hanning(tile), np.hanning(tile))
    yy, xx = np.indices((tile, tile))
    radius = np.round(np.hypot(yy - tile // 2, xx - tile // 2)).astype(int).ravel()
    counts = np.maximum(np.bincount(radius), 1)
    rings = np.arange(len(counts))
    band = (rings >= tile / 20) & (rings <= tile / 3)  # periods from 3 to 20 pixels
    periods = []
    for y, x in corners[: max(4, len(corners) // 4)]:
        patch = image[y : y + tile, x : x + tile]
        power = np.abs(np.fft.fftshift(np.fft.fft2((patch - patch.mean()) * window))) ** 2
        profile = np.bincount(radius, power.ravel()) / counts
        peak = int(rings[band][np.argmax(profile[band])])
        left, centre, right = profile[peak - 1], profile[peak], profile[peak + 1]
        curve = left - 2 * centre + right
        periods.append(tile / (peak + (0.5 * (left - right) / curve if curve else 0.0)))
    return float(np.median(periods))


def load(path: Path) -> Capture:
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte in it
        raise UnreadableImage(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    return decode(data, name=str(path))


def wsq_decode(data: bytes, *, name: str = "WSQ image") -> Capture:
    try:
        raw, width, height, ppi = _wsq.decompress(data)
    except Exception as exc:  # the codec raises bare Exception("WSQ Error: -n")
        raise UnreadableImage(f"{name}: WSQ data cannot be decoded ({exc})") from None
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width)
    return Capture(pixels, ppi=_scanner_ppi(ppi))


def at_500_ppi(capture: Capture) -> Capture:
    """The capture resampled to 500 ppi when it was taken at a resolution far from it (below 400 or
    above 625 ppi). mindtct's block sizes and thresholds are set for 500 ppi and it is given no other
    (NBIS reads the resolution only to decide what to warn about), so it found few true minutiae at
    1,000 or 250 ppi: FVC2004 DB1_B scaled to 1,000 ppi and stamped so compared at EER 38.8 %, and
    halved to 250 ppi at 30.7 %; resampled to 500 ppi first, 3.6 % (250). Near 500 ppi (FVC2002 DB2's
    569) the pixels are left as they are, and the filters and cylinders scale by the resolution."""
    ratio = DEFAULT_PPI / capture.ppi
    if 0.8 <= ratio <= 1.25:
        return capture
    size = (max(1, round(capture.width * ratio)), max(1, round(capture.height * ratio)))
    method = Image.Resampling.BICUBIC if ratio > 1 else Image.Resampling.LANCZOS
    pixels = np.asarray(Image.fromarray(capture.pixels).resize(size, method), dtype=np.uint8)
    return Capture(pixels, DEFAULT_PPI)


def wsq_encode(capture: Capture) -> bytes:
    """WSQ at the FBI's 0.75 bpp: the record of truth a booking keeps and sends."""
    data: bytes = _wsq.compress(capture.pixels.tobytes(), capture.height, capture.width, WSQ_BITRATE)
    return data


def from_record(finger: FingerImage) -> Capture:
    """Decode the image of a Type-3/4/13/14 record; bi-level Types 5 and 6 carry no grey image.

    The resolution the record states is read as an image file's is (``_scanner_ppi``): one no
    scanner has (0, 1 or 20 ppi, a field left blank or mistyped) means 500 ppi, or the extractor
    divided by zero, resampled the image out of memory or found no minutiae (found by a review)."""
    where = f"Type-{finger.record_type} record (IDC {finger.idc})"
    ppi = _scanner_ppi(finger.ppi)
    if finger.compression == "NONE" and finger.record_type in (3, 4, 13, 14):
        expected = finger.width * finger.height
        if len(finger.data) != expected:
            raise UnreadableImage(f"{where}: {len(finger.data)} bytes of raw pixels, {expected} expected")
        return Capture(np.frombuffer(finger.data, dtype=np.uint8).reshape(finger.height, finger.width), ppi)
    if finger.compression in ("WSQ", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG"):
        capture = decode(finger.data, name=where)
        return Capture(capture.pixels, ppi)
    raise UnreadableImage(f"{where}: {finger.compression} images are not decoded for comparison")


def as_file(finger: FingerImage) -> bytes:
    """A record's image as a file ``decode`` reads, for a booking to keep: compressed images as they
    came, raw pixels as a lossless PNG carrying their resolution (kept as the bare pixels, they could
    not be read back for the federal search: found by a review)."""
    if finger.compression in ("WSQ", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG"):
        decode(finger.data, name=f"Type-{finger.record_type} record (IDC {finger.idc})")  # readable, or refused now
        return finger.data
    capture = from_record(finger)
    out = io.BytesIO()
    Image.fromarray(capture.pixels, mode="L").save(out, format="PNG", dpi=(capture.ppi, capture.ppi))
    return out.getvalue()


def encode_for_extractor(capture: Capture) -> bytes:
    """Uncompressed BMP: the cheapest container the NBIS binding accepts."""
    out = io.BytesIO()
    Image.fromarray(capture.pixels, mode="L").save(out, format="BMP")
    return out.getvalue()


RIDGE_PERIOD_PX = 9.0  # typical ridge-to-ridge distance at 500 ppi (about 0.46 mm)
GABOR_SIGMA_PX = 4.0  # Hong, Wan and Jain (1998): wide enough to bridge a break, narrow enough to follow a curve
GABOR_ORIENTATIONS = 16
ORIENTATION_BLOCK_PX = 8  # half-side of the window the local ridge orientation is measured over
ORIENTATION_SMOOTHING_PX = 16  # half-side of the window the orientation field is averaged over
FOREGROUND_CONTRAST = 0.3  # share of the image's strong ridge contrast below which a region is background
FOREGROUND_MARGIN_PX = 8  # the finger's edge and the platen's rim are not ridges: stay this far inside
Floats = npt.NDArray[np.float64]


def enhance(capture: Capture) -> Capture:
    """Contextual (Gabor) filtering: each pixel filtered along its neighbourhood's ridge orientation.

    Why: mindtct's own binarisation reads merged ridges on a wet print and broken ridges on a dry one
    as endings and bifurcations that are not there. Filtering along a smoothed orientation field
    (Hong, Wan and Jain 1998) joins the breaks and separates the merges, so the extractor sees clean
    ridges. Background and the band along the print's outline, where the filter would invent ridges,
    are blanked to white, which mindtct treats as no print.
    """
    scale = capture.ppi / 500
    image = capture.pixels.astype(np.float64)
    mean = _box(image, round(8 * scale))
    spread: Floats = np.sqrt(np.maximum(_box(image * image, round(8 * scale)) - mean * mean, 0))
    normalised = (image - mean) / np.maximum(spread, 4.0)
    normal = _ridge_normal(image, scale)
    response = _oriented_response(normalised, normal, scale)
    enhanced = 128 + 127 * np.tanh(response / (response.std() + 1e-9))
    strong = float(np.percentile(spread, 95))
    foreground = _box((spread > FOREGROUND_CONTRAST * strong).astype(np.float64), round(8 * scale)) > 0.5
    foreground = _box(foreground.astype(np.float64), round(FOREGROUND_MARGIN_PX * scale)) > 0.99
    pixels = np.clip(np.where(foreground, enhanced, 255), 0, 255).astype(np.uint8)
    return Capture(pixels, capture.ppi)


def _box(values: Floats, radius: int) -> Floats:
    """The mean over a (2r+1)² window around each pixel, edges repeated (an integral image)."""
    radius = max(radius, 1)
    side = 2 * radius + 1
    total = np.pad(values, radius + 1, mode="edge").cumsum(0).cumsum(1)
    window = total[side:, side:] - total[:-side, side:] - total[side:, :-side] + total[:-side, :-side]
    mean: Floats = window[: values.shape[0], : values.shape[1]] / (side * side)
    return mean


def _ridge_normal(image: Floats, scale: float) -> Floats:
    """Direction across the ridges at each pixel, from squared gradients averaged twice (the smoothing
    lets a smudge or a scar take its orientation from the ridges around it)."""
    gy, gx = (np.asarray(g, dtype=np.float64) for g in np.gradient(_box(image, 1)))
    block, smooth = round(ORIENTATION_BLOCK_PX * scale), round(ORIENTATION_SMOOTHING_PX * scale)
    cos2 = _box(_box(gx * gx, block) - _box(gy * gy, block), smooth)
    sin2 = _box(2 * _box(gx * gy, block), smooth)
    normal: Floats = 0.5 * np.arctan2(sin2, cos2)
    return normal


def _oriented_response(image: Floats, normal: Floats, scale: float) -> Floats:
    """Each pixel's response to the even Gabor filter turned to its ridge normal (FFT convolution)."""
    period, sigma = RIDGE_PERIOD_PX * scale, GABOR_SIGMA_PX * scale
    radius = math.ceil(3 * sigma)
    rows, cols = image.shape
    shape = (rows + 2 * radius, cols + 2 * radius)
    spectrum = np.fft.rfft2(image, s=shape)
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    step = math.pi / GABOR_ORIENTATIONS
    nearest = np.round((normal + math.pi / 2) / step).astype(np.intp) % GABOR_ORIENTATIONS
    response = np.zeros_like(image)
    for k in range(GABOR_ORIENTATIONS):
        angle = -math.pi / 2 + k * step
        across = xx * math.cos(angle) + yy * math.sin(angle)
        kernel = np.exp(-(xx**2 + yy**2) / (2 * sigma**2)) * np.cos(2 * math.pi * across / period)
        kernel -= kernel.mean()
        filtered = np.fft.irfft2(spectrum * np.fft.rfft2(kernel, s=shape), s=shape)
        chosen = nearest == k
        response[chosen] = filtered[radius : radius + rows, radius : radius + cols][chosen]
    return response
