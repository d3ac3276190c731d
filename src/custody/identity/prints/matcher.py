"""The comparison engine behind one small protocol, so another extractor/comparator can replace NBIS.

:class:`NbisMatcher` is NIST NBIS (mindtct minutiae, bozorth3 comparison) through the nbis-py
binding. bozorth3 there holds a process-wide lock, so callers that want throughput run one matcher
per process (see :mod:`custody.identity.prints.compare`), never threads.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import nbis  # type: ignore[import-untyped]
import numpy as np

from custody.identity.prints.images import Capture, at_500_ppi, encode_for_extractor
from custody.identity.prints.templates import (
    HEADER_LENGTH,
    MINUTIA_LENGTH,
    VIEW_HEADER_LENGTH,
    Minutia,
    MinutiaKind,
    Template,
    TemplateFormatError,
)

NBIS_VERSION = "nbis-py 0.1.3 (NBIS 5.0 mindtct + bozorth3)"
BINDING_MINUTIAE = 255  # the most the binding's record (one count byte) can carry
# bozorth3's cost grows steeply with the minutiae it pairs, most of all on mated comparisons: on
# FVC2004 DB1_B/DB2_B (all 280 genuine and 2,880 impostor pairs each) keeping each template's best
# 36 by quality compared non-mates 2.0-2.8x and mates 1.8-3.2x faster than keeping all (about 55),
# with EER 11.1 -> 9.2 % and 15.0 -> 15.0 %; 48 and 44 were no faster, 40 in between.
SEARCH_MINUTIAE = 36
# one minutia of an ISO record or of the binding's: type and x, reserved bits and y, angle, quality
_RECORD_MINUTIA = np.dtype([("xword", ">u2"), ("yword", ">u2"), ("angle", "u1"), ("quality", "u1")])
_KINDS = {1: MinutiaKind.ENDING, 2: MinutiaKind.BIFURCATION}
Features = TypeVar("Features")


class Matcher(Protocol[Features]):
    """Extract features from a capture; compare two (higher = more similar).

    The features are whatever the engine compares: a minutiae template for plain NBIS, more for an
    engine that also looks at an enhanced image. ``template`` gives the minutiae that decide whether
    a capture is usable and that a gallery stores.
    """

    name: str
    version: str

    def extract(self, capture: Capture) -> Features: ...

    def compare(self, probe: Features, reference: Features) -> float: ...

    def compare_many(self, pairs: Sequence[tuple[Features, Features]]) -> list[float]:
        """``compare`` over many pairs, where an engine can prepare each distinct capture once."""
        ...

    def template(self, features: Features) -> Template: ...


class NbisMatcher:
    """Plain NBIS: every minutia mindtct finds, scored by bozorth3 (the baseline the issue measures)."""

    name = "nbis"
    version = NBIS_VERSION

    def __init__(self, *, nfiq2: bool = False, max_minutiae: int = BINDING_MINUTIAE) -> None:
        settings = nbis.NbisExtractorSettings(
            min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=nfiq2, ppi=None
        )
        self._nfiq2 = nfiq2
        self._max_minutiae = max_minutiae
        self._extractor = nbis.new_nbis_extractor(settings)
        self._native = lru_cache(maxsize=4096)(self._load)

    def extract(self, capture: Capture) -> Template:
        capture = at_500_ppi(capture)
        found = self._extractor.extract_minutiae(encode_for_extractor(capture))
        minutiae = tuple(
            Minutia(
                m.x(), m.y(), float(m.angle()), _KINDS.get(m.kind().value, MinutiaKind.OTHER), _percent(m.reliability())
            )
            for m in found.get()
        )
        quality = int(found.quality().score) if self._nfiq2 else 0
        return Template(
            capture.width, capture.height, minutiae, ppi=capture.ppi, quality=quality, extractor=self.version
        )

    def compare(self, probe: Template, reference: Template) -> float:
        score: int = self._native(probe).compare(self._native(reference))
        return float(score)

    def compare_many(self, pairs: Sequence[tuple[Template, Template]]) -> list[float]:
        native = self._loader()
        return [float(native(a).compare(native(b))) for a, b in pairs]

    def compare_records(self, pairs: Sequence[tuple[Template, bytes]]) -> list[float]:
        """Probe templates against stored ISO/IEC 19794-2 records, as a gallery search re-ranks: each
        record goes to bozorth3 without becoming a template first (same scores as decoding it)."""
        native = self._loader()
        load = self._extractor.load_iso_19794_2_2005
        return [float(native(p).compare(load(binding_record_of(r, self._max_minutiae)))) for p, r in pairs]

    def _loader(self) -> Callable[[Template], Any]:
        """Loads each template into bozorth3 once per batch, known by identity: a search's probe
        fingers recur in every pair and its references are distinct, so hashing every template for
        a cache would cost more than it saves."""
        loaded: dict[int, Any] = {}

        def native(template: Template) -> Any:
            if id(template) not in loaded:
                loaded[id(template)] = self._load(template)
            return loaded[id(template)]

        return native

    def template(self, features: Template) -> Template:
        return features

    def _load(self, template: Template) -> Any:  # an nbis.Minutiae
        return self._extractor.load_iso_19794_2_2005(binding_record(template, self._max_minutiae))


def search_matcher() -> NbisMatcher:
    """bozorth3 as the gallery re-ranks a shortlist with it: each template's best ``SEARCH_MINUTIAE``."""
    return NbisMatcher(max_minutiae=SEARCH_MINUTIAE)


def binding_record_of(record: bytes, limit: int = BINDING_MINUTIAE) -> bytes:
    """``binding_record(decode_iso(record), limit)`` read straight off a stored ISO/IEC 19794-2 record
    (its minutiae have the binding's 6-byte layout but for the quality scale and the order)."""
    count = record[HEADER_LENGTH + 3] if len(record) >= HEADER_LENGTH + VIEW_HEADER_LENGTH else 0
    start = HEADER_LENGTH + VIEW_HEADER_LENGTH
    if len(record) < start + count * MINUTIA_LENGTH:
        raise TemplateFormatError(f"minutiae: {count} announced, the record ends before them")
    found = np.frombuffer(record, dtype=_RECORD_MINUTIA, count=count, offset=start)
    best = found[np.argsort(-found["quality"].astype(np.int16), kind="stable")[: min(limit, BINDING_MINUTIAE)]]
    x, y = best["xword"] & 0x3FFF, best["yword"] & 0x3FFF
    ordered = best[np.lexsort((y, x))]
    body = np.empty(len(ordered), dtype=_RECORD_MINUTIA)
    body["xword"], body["yword"], body["angle"] = ordered["xword"], ordered["yword"] & 0x3FFF, ordered["angle"]
    body["quality"] = np.minimum(63, np.rint(ordered["quality"] * 0.63)).astype(np.uint8)
    return _binding_header(record[14:18], len(ordered), body.nbytes) + body.tobytes()


def _binding_header(size: bytes, count: int, body_length: int) -> bytes:
    """The binding record's header: length, width and height (4 bytes as in ISO), minutiae count."""
    header = b"FMR\x00 20\x00" + (26 + body_length).to_bytes(4, "big") + b"\x00\x00" + size
    return header + bytes.fromhex("00004400000000") + bytes([count])


def binding_record(template: Template, limit: int = BINDING_MINUTIAE) -> bytes:
    """The record layout nbis-py's loader expects (its non-standard "ISO"): the only way to hand it
    minutiae that did not come straight from its own extractor, e.g. read from a stored ISO record.

    bozorth3 there takes minutiae in the order given and scores differently unless they are in
    mindtct's own order (by x, then y), so the best ``limit`` by quality are put back in that order.
    """
    best = sorted(template.minutiae, key=lambda m: -m.quality)[: min(limit, BINDING_MINUTIAE)]
    fields: list[int] = []
    for m in sorted(best, key=lambda m: (m.x, m.y)):
        fields += ((int(m.kind) << 14) | m.x, m.y, round(m.angle / (360 / 256)) % 256, min(63, round(m.quality * 0.63)))
    body = struct.pack(">" + "HHBB" * len(best), *fields)
    size = template.width.to_bytes(2, "big") + template.height.to_bytes(2, "big")
    return _binding_header(size, len(best), len(body)) + body


def _percent(reliability: float) -> int:
    return max(0, min(100, round(reliability * 100)))
