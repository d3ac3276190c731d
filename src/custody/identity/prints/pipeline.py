"""custody's comparison engine: NBIS minutiae from the capture and from its enhanced image, scored by
Minutia Cylinder-Code with relaxation (LSS-R), the two scores averaged.

Why each step (measured with bench/prints_accuracy.py on FVC2004 DB1_B and DB2_B, see
docs/fingerprints.md):

- bozorth3 compares minutia pairs after an implicit alignment and loses mates on distorted or
  partial impressions; cylinders describe each minutia's neighbourhood in its own frame, and the
  relaxation keeps only pairs that agree with one placement of the finger.
- mindtct marks each minutia with its quality-map class; minutiae in the lowest class (reliability
  under 0.10) are mostly smudge and border artefacts and are left out.
- Contextual (Gabor) enhancement (:func:`images.enhance`) repairs wet and dry prints, where mindtct
  otherwise reads merged or broken ridges as minutiae, but can invent ridges where the print is
  poor; on the enhanced image, minutiae of classes 0 and 1 (reliability under 0.25) are those next to
  blanked background and are left out.
- The capture as taken and the enhanced one fail on different prints, so the mean of their two
  scores (equal weights, not tuned) separates mates from non-mates better than either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from custody.identity.prints.cylinders import MatchingCylinders, relaxed_similarity
from custody.identity.prints.images import Capture, at_500_ppi, enhance
from custody.identity.prints.matcher import NBIS_VERSION, Matcher, NbisMatcher
from custody.identity.prints.templates import Template

PLAIN_MIN_QUALITY = 10  # mindtct's quality-map class 0 is reliability 0.01-0.09
ENHANCED_MIN_QUALITY = 25  # classes 0 and 1 are reliability 0.01-0.24


class Features:
    """What custody compares for one capture: the minutiae of the capture and of its enhanced image.

    The cylinders are built on first comparison and kept with the features, but never pickled: a
    worker process receives the small templates and builds the cylinders once for all its pairs.
    """

    def __init__(self, plain: Template, enhanced: Template) -> None:
        self.plain = plain
        self.enhanced = enhanced
        self._cylinders: tuple[MatchingCylinders, MatchingCylinders] | None = None

    def cylinders(self) -> tuple[MatchingCylinders, MatchingCylinders]:
        if self._cylinders is None:
            self._cylinders = (
                MatchingCylinders(self.plain, min_quality=PLAIN_MIN_QUALITY),
                MatchingCylinders(self.enhanced, min_quality=ENHANCED_MIN_QUALITY),
            )
        return self._cylinders

    def __getstate__(self) -> tuple[Template, Template]:
        return self.plain, self.enhanced

    def __setstate__(self, state: tuple[Template, Template]) -> None:
        self.plain, self.enhanced = state
        self._cylinders = None


class CustodyMatcher:
    """The default engine of ``custody prints compare``; scores 0 to 100."""

    name = "custody"
    version = f"custody-mcc 3 on {NBIS_VERSION}"

    def __init__(self, *, nfiq2: bool = False) -> None:
        self._nbis = NbisMatcher(nfiq2=nfiq2)

    def extract(self, capture: Capture) -> Features:
        capture = at_500_ppi(capture)
        return Features(self._nbis.extract(capture), self._nbis.extract(enhance(capture)))

    def compare(self, probe: Features, reference: Features) -> float:
        (plain_a, enhanced_a), (plain_b, enhanced_b) = probe.cylinders(), reference.cylinders()
        mean = (relaxed_similarity(plain_a, plain_b) + relaxed_similarity(enhanced_a, enhanced_b)) / 2
        return round(100 * mean, 3)

    def compare_many(self, pairs: Sequence[tuple[Features, Features]]) -> list[float]:
        return [self.compare(a, b) for a, b in pairs]  # each Features keeps its own cylinders

    def template(self, features: Features) -> Template:
        return features.plain


MATCHERS: dict[str, Callable[[], Matcher[Any]]] = {"custody": CustodyMatcher, "nbis": NbisMatcher}
DEFAULT_MATCHER = "custody"


def matcher_factory(name: str) -> Callable[[], Matcher[Any]]:
    """The named engine's constructor (picklable, so each worker process builds its own)."""
    return MATCHERS[name]
