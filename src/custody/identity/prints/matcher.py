"""The comparison engine behind one small protocol, so another extractor/comparator can replace NBIS.

:class:`NbisMatcher` is NIST NBIS (mindtct minutiae, bozorth3 comparison) through the nbis-py
binding. bozorth3 there holds a process-wide lock, so callers that want throughput run one matcher
per process (see :mod:`custody.identity.prints.compare`), never threads.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol, TypeVar

import nbis  # type: ignore[import-untyped]

from custody.identity.prints.images import Capture, encode_for_extractor
from custody.identity.prints.templates import Minutia, MinutiaKind, Template

NBIS_VERSION = "nbis-py 0.1.3 (NBIS 5.0 mindtct + bozorth3)"
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

    def template(self, features: Features) -> Template: ...


class NbisMatcher:
    """Plain NBIS: every minutia mindtct finds, scored by bozorth3 (the baseline the issue measures)."""

    name = "nbis"
    version = NBIS_VERSION

    def __init__(self, *, nfiq2: bool = False) -> None:
        settings = nbis.NbisExtractorSettings(
            min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=nfiq2, ppi=None
        )
        self._nfiq2 = nfiq2
        self._extractor = nbis.new_nbis_extractor(settings)
        self._native = lru_cache(maxsize=4096)(self._load)

    def extract(self, capture: Capture) -> Template:
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

    def template(self, features: Template) -> Template:
        return features

    def _load(self, template: Template) -> Any:  # an nbis.Minutiae
        return self._extractor.load_iso_19794_2_2005(binding_record(template))


def binding_record(template: Template) -> bytes:
    """The record layout nbis-py's loader expects (its non-standard "ISO"): the only way to hand it
    minutiae that did not come straight from its own extractor, e.g. read from a stored ISO record.

    bozorth3 there takes minutiae in the order given and scores differently unless they are in
    mindtct's own order (by x, then y), so they are put back in that order.
    """
    body = b"".join(
        ((int(m.kind) << 14) | m.x).to_bytes(2, "big")
        + m.y.to_bytes(2, "big")
        + bytes([round(m.angle / (360 / 256)) % 256, min(63, round(m.quality * 0.63))])
        for m in sorted(_best(template.minutiae), key=lambda m: (m.x, m.y))
    )
    header = b"FMR\x00 20\x00" + (26 + len(body)).to_bytes(4, "big") + b"\x00\x00"
    header += template.width.to_bytes(2, "big") + template.height.to_bytes(2, "big")
    return header + bytes.fromhex("00004400000000") + bytes([min(255, len(template.minutiae))]) + body


def _best(minutiae: tuple[Minutia, ...]) -> list[Minutia]:
    return sorted(minutiae, key=lambda m: -m.quality)[:255]


def _percent(reliability: float) -> int:
    return max(0, min(100, round(reliability * 100)))
