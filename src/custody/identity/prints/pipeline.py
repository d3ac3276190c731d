"""An experimental comparison: NBIS minutiae scored by bozorth3 and by Minutia Cylinder-Code, fused.

bozorth3 rewards many consistent minutia pairs after an implicit alignment; cylinders compare the
neighbourhood of each minutia without aligning and so should survive distortion where bozorth3
loses pairs. Measured with bench/prints_accuracy.py it helps on FVC2004 DB1_B (EER 0.89× plain NBIS)
but not on DB2_B (1.05×), so it is not the default: ``custody prints compare --matcher custody``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from custody.identity.prints.cylinders import Cylinders, similarity
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NBIS_VERSION, Matcher, NbisMatcher
from custody.identity.prints.templates import Template

BOZORTH_SCALE = 60.0  # bozorth3 scores around 40 are NIST's usual threshold; tanh(40/60) ≈ 0.58
WEIGHT_CYLINDERS = 0.5


class FusedMatcher:
    """bozorth3 and cylinder similarity, fused; scores 0 to 100."""

    name = "custody"
    version = f"custody-fused 1 on {NBIS_VERSION}"

    def __init__(self, *, nfiq2: bool = False) -> None:
        self._nbis = NbisMatcher(nfiq2=nfiq2)
        self._cylinders = lru_cache(maxsize=4096)(Cylinders)

    def extract(self, capture: Capture) -> Template:
        return self._nbis.extract(capture)

    def compare(self, probe: Template, reference: Template) -> float:
        bozorth = math.tanh(self._nbis.compare(probe, reference) / BOZORTH_SCALE)
        local = similarity(self._cylinders(probe), self._cylinders(reference))
        return round(100 * (WEIGHT_CYLINDERS * local + (1 - WEIGHT_CYLINDERS) * bozorth), 3)


MATCHERS: dict[str, Callable[[], Matcher]] = {"custody": FusedMatcher, "nbis": NbisMatcher}


def matcher_factory(name: str) -> Callable[[], Matcher]:
    """The named engine's constructor (picklable, so each worker process builds its own)."""
    return MATCHERS[name]
