from __future__ import annotations

import math

import numpy as np

from custody.identity.prints.descriptors import BITS, CODE_BYTES, Encoder, similarity, train_codebook
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.synthetic import MIN_SPACING, synthetic_template
from custody.identity.prints.templates import Minutia, Template


def _turned(template: Template, degrees: float) -> Template:
    a = math.radians(degrees)
    cx, cy = template.width / 2, template.height / 2
    moved = []
    for m in template.minutiae:
        dx, dy = m.x - cx, m.y - cy
        x = cx + dx * math.cos(a) - dy * math.sin(a) + 200
        y = cy + dx * math.sin(a) + dy * math.cos(a) + 200
        moved.append(Minutia(round(x), round(y), (m.angle - degrees) % 360, m.kind, m.quality))
    return Template(template.width + 400, template.height + 400, tuple(moved))


def test_codes_survive_rotation_and_tell_fingers_apart(samples: dict[str, Capture]) -> None:
    encoder = Encoder(train_codebook(fingers=40))
    matcher = NbisMatcher()
    probe, other = matcher.extract(samples["p1_1"]), matcher.extract(samples["p2_1"])
    code = encoder.encode(probe)
    assert code.dtype == np.uint8 and code.shape == (CODE_BYTES,)

    def hamming(a: np.ndarray, b: np.ndarray) -> int:
        return int(np.unpackbits(a ^ b).sum())

    same = similarity(hamming(code, encoder.encode(_turned(probe, 25))))
    different = similarity(hamming(code, encoder.encode(other)))
    assert same > different + 0.2
    assert similarity(0) == 1.0 and similarity(BITS) == -1.0


def test_codebook_is_the_same_for_the_same_seed() -> None:
    assert np.array_equal(train_codebook(fingers=20, seed=3), train_codebook(fingers=20, seed=3))


def test_synthetic_fingers_look_like_minutiae_of_a_finger() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        t = synthetic_template(rng, position=4)
        assert t.position == 4 and 20 <= len(t.minutiae) <= 80
        pts = np.array([(m.x, m.y) for m in t.minutiae], dtype=float)
        assert ((pts >= 0) & (pts < [t.width, t.height])).all()
        gaps = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1)) + np.eye(len(pts)) * 1e9
        assert gaps.min() >= MIN_SPACING - 1.5  # coordinates are rounded down to whole pixels
