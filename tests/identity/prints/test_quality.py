from __future__ import annotations

import numpy as np
import pytest

from custody.identity.prints.images import Capture
from custody.identity.prints.quality import UnusableCapture, check_capture, check_template
from custody.identity.prints.templates import Minutia, MinutiaKind, Template


def test_a_real_print_passes(samples: dict[str, Capture]) -> None:
    check_capture(samples["p1_1"])


def test_blank_platen_is_refused_with_the_reason() -> None:
    with pytest.raises(UnusableCapture, match="no ridge contrast"):
        check_capture(Capture(np.full((400, 400), 200, dtype=np.uint8)), name="blank.png")


def test_tiny_image_is_refused(samples: dict[str, Capture]) -> None:
    with pytest.raises(UnusableCapture, match="too small"):
        check_capture(Capture(samples["p1_1"].pixels[:50, :50]))


def test_too_few_minutiae_is_refused() -> None:
    few = tuple(Minutia(10 * i, 10 * i, 0.0, MinutiaKind.ENDING, 50) for i in range(3))
    with pytest.raises(UnusableCapture, match="only 3 minutiae"):
        check_template(Template(300, 300, few))
