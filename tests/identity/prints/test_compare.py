"""Comparing many pairs: an image that kills its worker process costs its own pairs, not the run's."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from custody.identity.prints.compare import compare_pairs
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.pipeline import DEFAULT_MATCHER, matcher_factory

DATA = Path(__file__).parent / "data"
DEADLY_WIDTH = 123  # the width of the image this test's engine dies on


class DyingMatcher(NbisMatcher):
    """NBIS, except that it dies as a decoder reading a corrupt WSQ file out of bounds does (a
    segmentation fault, seen on a file with three bytes changed), on images of one width."""

    def extract(self, capture: Capture) -> Any:
        if capture.width == DEADLY_WIDTH:
            os.kill(os.getpid(), signal.SIGSEGV)
        return super().extract(capture)


def test_an_image_that_crashes_its_worker_gets_a_reason_and_every_other_pair_its_score(tmp_path: Path) -> None:
    deadly = tmp_path / "deadly.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, DEADLY_WIDTH), dtype=np.uint8)).save(deadly)
    good, mate, other = (str(DATA / f"{n}.png") for n in ("p1_1", "p1_2", "p2_1"))
    pairs = [(good, mate), (str(deadly), mate), (good, other), (mate, good)]

    results = list(compare_pairs(pairs, DyingMatcher, workers=2))

    assert [(r.probe, r.reference) for r in results] == pairs
    assert results[1].score is None and "crashed the image decoder" in (results[1].problem or "")
    scores = [r.score for i, r in enumerate(results) if i != 1]
    assert all(s is not None for s in scores)
    assert results[0].score is not None and results[2].score is not None and results[0].score > results[2].score


def test_prints_stamped_300_dpi_by_a_converter_score_as_the_500_ppi_prints_they_are(tmp_path: Path) -> None:
    names = ("p1_1", "p1_2", "p2_1", "p2_2")
    for name in names:
        Image.open(DATA / f"{name}.png").save(tmp_path / f"{name}.png", dpi=(300, 300))
    pairs = [("p1_1", "p1_2"), ("p1_1", "p2_1"), ("p2_2", "p2_1")]
    engine = matcher_factory(DEFAULT_MATCHER)  # custody's pipeline scales its filters and cylinders by resolution
    stamped = compare_pairs([(str(tmp_path / f"{a}.png"), str(tmp_path / f"{b}.png")) for a, b in pairs], engine)
    plain = compare_pairs([(str(DATA / f"{a}.png"), str(DATA / f"{b}.png")) for a, b in pairs], engine)
    assert [r.score for r in stamped] == [r.score for r in plain]
