"""Minutia Cylinder-Code (Cappelli, Ferrara, Maltoni 2010): a fixed-length descriptor per minutia.

Each minutia gets a cylinder: a grid of cells in its own rotated frame, each cell holding how
strongly the neighbouring minutiae around it point in each of a few relative directions. Being
invariant to translation and rotation and tolerant of local distortion, cylinders let two
impressions be compared without aligning them first. Here they serve twice: their local
similarity score (LSS) is a second opinion fused with bozorth3, and being fixed-length vectors they
can be indexed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from custody.identity.prints.templates import Minutia, Template

RADIUS = 70.0  # pixels at 500 ppi
CELLS = 8  # cells per side: 16 measured no better on FVC2004 at four times the cost
DIRECTIONS = 6
SIGMA_S = 28 / 3
SIGMA_D = 2 * math.pi / 9
MU_PSI, TAU_PSI = 0.01, 400.0
MIN_VALID = 0.6  # a cylinder with fewer valid cells than this share carries too little to compare
MIN_NEIGHBOURS = 2  # a cylinder describing fewer neighbours says nothing about the finger
MAX_ANGLE = math.pi / 2  # minutiae turned more than this relative to each other are not paired
MIN_P, MAX_P, MU_P, TAU_P = 4, 12, 20.0, 0.4

Floats = npt.NDArray[np.float64]
Floats32 = npt.NDArray[np.float32]

_side = (np.arange(CELLS) - (CELLS - 1) / 2) * (2 * RADIUS / CELLS)
_OFFSETS = np.stack(np.meshgrid(_side, _side), axis=-1).reshape(-1, 2)  # (C, 2): dx, dy
_INSIDE = np.hypot(_OFFSETS[:, 0], _OFFSETS[:, 1]) <= RADIUS
_BINS: Floats = np.asarray(-math.pi + (np.arange(DIRECTIONS) + 0.5) * (2 * math.pi / DIRECTIONS), dtype=np.float64)


def _angle_diff(a: Floats, b: Floats) -> Floats:
    d: Floats = (a - b + math.pi) % (2 * math.pi) - math.pi
    return d


def _placed(minutiae: Sequence[Minutia], ppi: int) -> tuple[Floats, Floats]:
    """Positions scaled to 500 ppi, and directions turned into image coordinates: template angles
    turn counter-clockwise on screen while image rows grow downwards."""
    pts = np.array([(m.x, m.y) for m in minutiae], dtype=np.float64).reshape(-1, 2)
    pts *= 500.0 / max(ppi, 1)
    theta: Floats = -np.radians(np.array([m.angle for m in minutiae], dtype=np.float64))
    return pts, theta


def _cell_centres(pts: Floats, theta: Floats, offsets: Floats) -> Floats:
    """Cell centres in each minutia's frame, rotated by its direction: (n, cells, 2)."""
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    rx = cos * offsets[None, :, 0] - sin * offsets[None, :, 1]
    ry = sin * offsets[None, :, 0] + cos * offsets[None, :, 1]
    centres: Floats = np.stack([pts[:, None, 0] + rx, pts[:, None, 1] + ry], axis=-1)
    return centres


class Cylinders:
    """The cylinders of one template: unit vectors (n × cells·directions), validity, directions."""

    def __init__(self, template: Template) -> None:
        pts, theta = _placed(template.minutiae, template.ppi)
        centres = _cell_centres(pts, theta, _OFFSETS)
        dist = np.linalg.norm(centres[:, :, None, :] - pts[None, None, :, :], axis=-1)  # (n, C, n)
        spatial = np.exp(-(dist**2) / (2 * SIGMA_S**2))
        n = len(pts)
        spatial[:, :, np.arange(n)] *= 1 - np.eye(n)[:, None, :]
        spatial[dist > RADIUS + 3 * SIGMA_S] = 0.0
        rel = _angle_diff(theta[None, :], theta[:, None])  # (n, n): direction of j relative to i
        directional = np.exp(-(_angle_diff(rel[:, :, None], _BINS[None, None, :]) ** 2) / (2 * SIGMA_D**2))
        raw = np.einsum("icj,ijd->icd", spatial, directional)
        values = 1 / (1 + np.exp(-TAU_PSI * (raw - MU_PSI)))
        neighbours = ((dist <= RADIUS + 3 * SIGMA_S) & (spatial > 0)).any(axis=1).sum(axis=1)
        valid = _INSIDE[None, :] & _inside_image(centres, template)
        values *= valid[:, :, None]
        self.usable = (valid.mean(axis=1) >= MIN_VALID * _INSIDE.mean()) & (neighbours >= MIN_NEIGHBOURS)
        flat = values.reshape(n, -1)
        norms = np.linalg.norm(flat, axis=1)
        self.usable &= norms > 0
        self.vectors: Floats = flat / np.maximum(norms, 1e-9)[:, None]
        self.theta: Floats = theta

    def __len__(self) -> int:
        return int(self.usable.sum())


def _inside_image(centres: Floats, template: Template) -> npt.NDArray[np.bool_]:
    scale = 500.0 / max(template.ppi, 1)
    x, y = centres[..., 0], centres[..., 1]
    inside: npt.NDArray[np.bool_] = (x >= 0) & (y >= 0) & (x < template.width * scale) & (y < template.height * scale)
    return inside


def similarity(a: Cylinders, b: Cylinders) -> float:
    """Local Similarity Sort: the mean of the best cylinder-pair similarities, 0 to 1."""
    va, vb = a.vectors[a.usable], b.vectors[b.usable]
    if len(va) == 0 or len(vb) == 0:
        return 0.0
    # for unit vectors 1 - |a-b|/2 equals 1 - sqrt((2 - 2 a·b)) / 2
    dots = np.clip(va @ vb.T, -1.0, 1.0)
    sim = 1 - np.sqrt(np.maximum(2 - 2 * dots, 0)) / 2
    turned = np.abs(_angle_diff(a.theta[a.usable][:, None], b.theta[b.usable][None, :])) > MAX_ANGLE
    sim[turned] = 0.0
    n = min(len(va), len(vb))
    pairs = MIN_P + round((MAX_P - MIN_P) / (1 + math.exp(-TAU_P * (n - MU_P))))
    best = np.partition(sim.ravel(), -pairs)[-pairs:] if sim.size > pairs else sim.ravel()
    return float(best.mean())


# The full Minutia Cylinder-Code of the paper, for comparing two prints (``relaxed_similarity``).
# ``Cylinders`` above stays as it is: the gallery's codebook and stored codes are built from it.
HULL_MARGIN = 50.0  # ω: cells this far outside the minutiae's convex hull are still on the finger
MIN_VALID_CELLS = 0.75  # min_VC: share of a cylinder's cells that must lie on the finger
MIN_MATCHABLE_CELLS = 0.6  # min_ME: share of cells valid in both cylinders for them to be compared
RELAXATION_ROUNDS, RELAXATION_WEIGHT = 5, 0.5  # n_rel, w_R
# ρ's sigmoids (μ, τ) on distance, relative direction and radial angle differences
DISTANCE_MU, DISTANCE_TAU = 5.0, -8 / 5
DIRECTION_MU, DIRECTION_TAU = math.pi / 12, -30.0
RADIAL_MU, RADIAL_TAU = math.pi / 12, -30.0

_RHO_MU = np.array([DISTANCE_MU, DIRECTION_MU, RADIAL_MU])[:, None, None]
_RHO_TAU = np.array([DISTANCE_TAU, DIRECTION_TAU, RADIAL_TAU])[:, None, None]
_CELL_OFFSETS = _OFFSETS[_INSIDE]  # only the cells inside the cylinder's base are ever valid
_BIN_HALF = math.pi / DIRECTIONS


def _sigmoid(value: Floats | float, mu: Floats | float, tau: Floats | float) -> Floats:
    """Ψ/Z of the paper, written with tanh so steep slopes cannot overflow."""
    result: Floats = 0.5 * (1 + np.tanh(0.5 * tau * (np.asarray(value, dtype=np.float64) - mu)))
    return result


def _direction_share(delta: Floats) -> Floats:
    """C_D: the share of a Gaussian (σ_D) around a neighbour's relative direction that falls in a bin."""
    scale = SIGMA_D * math.sqrt(2)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    share: Floats = 0.5 * (erf((delta + _BIN_HALF) / scale) - erf((delta - _BIN_HALF) / scale))
    return share


_SHARE_X = np.linspace(-math.pi, math.pi, 1025)
_SHARE_Y = _direction_share(_SHARE_X)


def _convex_hull(points: Floats) -> Floats:
    """Andrew's monotone chain: the corners in the order that puts the inside left of every edge."""
    ordered = sorted({(float(x), float(y)) for x, y in points})
    if len(ordered) < 3:
        return np.asarray(ordered, dtype=np.float64).reshape(-1, 2)

    def turn(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for chain, sequence in ((lower, ordered), (upper, ordered[::-1])):
        for p in sequence:
            while len(chain) >= 2 and turn(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
    return np.asarray(lower[:-1] + upper[:-1], dtype=np.float64)


def _near_hull(points: Floats, hull: Floats, margin: float) -> npt.NDArray[np.bool_]:
    """Whether each point lies inside the convex polygon or within ``margin`` of its outline."""
    if len(hull) < 3:
        return np.zeros(len(points), dtype=bool)
    edges = np.roll(hull, -1, axis=0) - hull
    rel = points[:, None, :] - hull[None]
    inside = (edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0] >= 0).all(axis=1)
    along = np.clip((rel * edges[None]).sum(-1) / np.maximum((edges**2).sum(-1), 1e-9)[None], 0, 1)
    distance = np.linalg.norm(rel - along[..., None] * edges[None], axis=-1).min(axis=1)
    near: npt.NDArray[np.bool_] = inside | (distance <= margin)
    return near


class MatchingCylinders:
    """The Minutia Cylinder-Code of the paper (Cappelli, Ferrara, Maltoni 2010), for 1:1 comparison.

    Unlike :class:`Cylinders`, a cell counts only where the finger is (inside the minutiae's convex
    hull widened by ω), each neighbour contributes a normalised Gaussian, and two cylinders are
    compared only on the cells valid in both. That is what lets a partial impression be compared
    with a full one without the missing area counting against it. Minutiae below ``min_quality``
    (the extractor's reliability, 0-100) are left out before anything is built.
    """

    def __init__(self, template: Template, *, min_quality: int = 0) -> None:
        pts, theta = _placed([m for m in template.minutiae if m.quality >= min_quality], template.ppi)
        n, cells = len(pts), len(_CELL_OFFSETS)
        centres = _cell_centres(pts, theta, _CELL_OFFSETS)
        valid = _near_hull(centres.reshape(-1, 2), _convex_hull(pts), HULL_MARGIN).reshape(n, cells)
        dist = np.linalg.norm(centres[:, :, None, :] - pts[None, None], axis=-1)  # (n, cells, n)
        spatial = np.exp(-(dist**2) / (2 * SIGMA_S**2)) / (SIGMA_S * math.sqrt(2 * math.pi))
        spatial[dist > 3 * SIGMA_S] = 0.0
        spatial[np.arange(n), :, np.arange(n)] = 0.0
        relative = _angle_diff(theta[None, :], theta[:, None])  # (i, j): direction of j seen from i
        share = np.interp(_angle_diff(_BINS[None, None, :], relative[:, :, None]), _SHARE_X, _SHARE_Y)
        values = _sigmoid(np.einsum("icj,ijd->icd", spatial, share), MU_PSI, TAU_PSI) * valid[:, :, None]
        gaps = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
        neighbours = (gaps <= RADIUS + 3 * SIGMA_S).sum(axis=1) - 1
        usable = (valid.sum(axis=1) >= MIN_VALID_CELLS * cells) & (neighbours >= MIN_NEIGHBOURS)
        self.count = n
        # float32: the products are sums of a few hundred terms in [0, 1], and twice as fast
        self.vectors: Floats32 = values[usable].reshape(-1, cells * DIRECTIONS).astype(np.float32)
        self.valid: Floats32 = valid[usable].astype(np.float32)
        self.energy: Floats32 = (values[usable] ** 2).sum(axis=-1).astype(np.float32)  # per cell
        self.theta: Floats = theta[usable]
        self.heading: Floats = np.stack([np.cos(self.theta), np.sin(self.theta)], axis=1)
        p = pts[usable]
        bearing = np.arctan2(p[None, :, 1] - p[:, None, 1], p[None, :, 0] - p[:, None, 0])
        # between every two usable minutiae: distance, relative direction, bearing from the first
        self.geometry: Floats = np.stack(
            [
                gaps[np.ix_(usable, usable)],
                _angle_diff(self.theta[None, :], self.theta[:, None]),
                _angle_diff(self.theta[:, None], bearing),
            ]
        )

    def __len__(self) -> int:
        return len(self.theta)


def local_similarities(a: MatchingCylinders, b: MatchingCylinders) -> Floats32:
    """γ for every cylinder pair: 1 - ‖a−b‖ / (‖a‖+‖b‖) over the cells valid in both, 0 where not comparable."""
    both = a.valid @ b.valid.T
    energy_a, energy_b = a.energy @ b.valid.T, a.valid @ b.energy.T
    # numpy computes x @ x.T as a symmetric product, rounded otherwise than x @ y.T, and the square
    # root of a difference near zero magnifies that: a print compared with itself (one file as probe
    # and reference) scored 99.668 and with a copy of it 99.68 (found by a review)
    vectors, heading = (b.vectors.T.copy(), b.heading.T.copy()) if b is a else (b.vectors.T, b.heading.T)
    apart = np.sqrt(np.maximum(energy_a + energy_b - 2 * (a.vectors @ vectors), 0))
    total = np.sqrt(energy_a) + np.sqrt(energy_b)
    gamma: Floats32 = np.where(total > 0, 1 - apart / np.maximum(total, 1e-12), 0).astype(np.float32)
    # directions at most MAX_ANGLE (π/2) apart: their unit vectors' dot product is not negative
    comparable = (both >= MIN_MATCHABLE_CELLS * len(_CELL_OFFSETS)) & (a.heading @ heading >= 0)
    gamma *= comparable
    return gamma


def relaxed_similarity(a: MatchingCylinders, b: MatchingCylinders) -> float:
    """Local Similarity Sort with Relaxation (LSS-R), 0 to 1.

    The best-matching cylinder pairs are taken as candidate minutia pairs; each pair's similarity
    is then repeatedly replaced by a blend of itself and the similarities of the pairs that agree
    with it geometrically (distance, relative direction and bearing between the two minutiae in
    each print). Pairs that fit one consistent placement of the finger reinforce each other, chance
    look-alikes fade; the score is the mean of the pairs that kept their similarity best.
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    gamma = local_similarities(a, b)
    candidates = min(len(a), len(b))
    flat = gamma.ravel()
    top = np.argpartition(flat, -candidates)[-candidates:] if flat.size > candidates else np.arange(flat.size)
    ia, ib = np.unravel_index(top, gamma.shape)
    initial = flat[top]
    apart = np.abs(a.geometry[:, ia[:, None], ia] - b.geometry[:, ib[:, None], ib])
    apart[1:] = np.minimum(apart[1:], 2 * math.pi - apart[1:])  # both in (-π, π]: the gap is at most 2π
    rho = np.prod(_sigmoid(apart, _RHO_MU, _RHO_TAU), axis=0)
    np.fill_diagonal(rho, 0.0)
    support = rho / max(len(initial) - 1, 1)
    relaxed = initial
    for _ in range(RELAXATION_ROUNDS):
        relaxed = RELAXATION_WEIGHT * relaxed + (1 - RELAXATION_WEIGHT) * (support @ relaxed)
    efficiency = relaxed / np.maximum(initial, 1e-12)
    count = MIN_P + round((MAX_P - MIN_P) * float(_sigmoid(min(a.count, b.count), MU_P, TAU_P)))
    kept = np.argpartition(-efficiency, count - 1)[:count] if len(efficiency) > count else slice(None)
    return float(relaxed[kept].mean())
