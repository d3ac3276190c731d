"""Synthetic minutia templates: distractors for gallery benchmarks and data for the index codebook.

Real fingerprints cannot be shipped or generated here, but the pre-filter only needs templates whose
minutiae are laid out like a finger's: spaced about a ridge period apart inside an elliptical
contact area, pointing along a smooth orientation field that turns around cores and deltas
(the zero-pole model of Sherlock and Monro, 1993) as arches, loops and whorls do. They are not
mates of anything, so a real probe's mate must beat them as it would beat other people's fingers.
"""

from __future__ import annotations

import math

import numpy as np

from custody.identity.prints.templates import Minutia, MinutiaKind, Template

MIN_SPACING = 14.0  # pixels at 500 ppi between minutiae, about one and a half ridge periods
PATTERNS = (0.1, 0.6, 0.3)  # arch, loop, whorl: roughly their shares in ten-print files


def synthetic_template(rng: np.random.Generator, *, position: int = 0) -> Template:
    """One finger's worth of minutiae from a random pattern, size and placement."""
    width, height = int(rng.integers(300, 640)), int(rng.integers(360, 560))
    cx, cy = width / 2 + rng.normal(0, width / 10), height / 2 + rng.normal(0, height / 10)
    poles = _singular_points(rng, int(rng.choice(3, p=PATTERNS)), cx, cy, width, height)
    base = rng.uniform(-0.3, 0.3)
    rx, ry = width * rng.uniform(0.35, 0.48), height * rng.uniform(0.38, 0.48)
    wanted = int(rng.integers(25, 80))
    r, t = np.sqrt(rng.uniform(0, 1, 8 * wanted)), rng.uniform(0, 2 * math.pi, 8 * wanted)
    candidates = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)
    candidates = candidates[(candidates[:, 0] >= 0) & (candidates[:, 0] < width)]
    candidates = candidates[(candidates[:, 1] >= 0) & (candidates[:, 1] < height)]
    kept: list[np.ndarray] = []
    for point in candidates:
        if len(kept) == wanted:
            break
        if not kept or np.min(np.hypot(*(np.asarray(kept) - point).T)) >= MIN_SPACING:
            kept.append(point)
    minutiae = []
    for x, y in kept:
        field = base + (
            0.5 * sum(s * math.atan2(y - py, x - px) for px, py, s in poles)
            if poles
            else 0.6 * math.sin((x - cx) / width * math.pi) * (1 - y / height)
        )
        # ridge orientation is defined modulo 180°: a minutia points either way along it
        angle = math.degrees(field) + 180 * int(rng.integers(2)) + rng.normal(0, 5)
        kind = MinutiaKind(int(rng.integers(1, 3)))
        minutiae.append(Minutia(int(x), int(y), angle % 360, kind, int(rng.integers(20, 90))))
    minutiae.sort(key=lambda m: (m.x, m.y))
    return Template(width, height, tuple(minutiae), position=position)


def _singular_points(
    rng: np.random.Generator, pattern: int, cx: float, cy: float, width: int, height: int
) -> list[tuple[float, float, int]]:
    """Cores (+1) and deltas (-1): none for an arch, one pair for a loop, two for a whorl."""
    if pattern == 0:
        return []
    core = (cx, cy - height * 0.1)
    delta = (core[0] + rng.normal(0, 60), core[1] + rng.uniform(120, 220))
    poles = [(*core, 1), (*delta, -1)]
    if pattern == 2:
        poles += [(core[0] + rng.normal(0, 30), core[1] + rng.uniform(30, 70), 1), (width - delta[0], delta[1], -1)]
    return poles
