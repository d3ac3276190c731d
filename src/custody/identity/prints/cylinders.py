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

import numpy as np
import numpy.typing as npt

from custody.identity.prints.templates import Template

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

_side = (np.arange(CELLS) - (CELLS - 1) / 2) * (2 * RADIUS / CELLS)
_OFFSETS = np.stack(np.meshgrid(_side, _side), axis=-1).reshape(-1, 2)  # (C, 2): dx, dy
_INSIDE = np.hypot(_OFFSETS[:, 0], _OFFSETS[:, 1]) <= RADIUS
_BINS: Floats = np.asarray(-math.pi + (np.arange(DIRECTIONS) + 0.5) * (2 * math.pi / DIRECTIONS), dtype=np.float64)


def _angle_diff(a: Floats, b: Floats) -> Floats:
    d: Floats = (a - b + math.pi) % (2 * math.pi) - math.pi
    return d


class Cylinders:
    """The cylinders of one template: unit vectors (n × cells·directions), validity, directions."""

    def __init__(self, template: Template) -> None:
        pts = np.array([(m.x, m.y) for m in template.minutiae], dtype=np.float64).reshape(-1, 2)
        pts *= 500.0 / max(template.ppi, 1)
        # template angles turn counter-clockwise on screen while image rows grow downwards
        theta = -np.radians([m.angle for m in template.minutiae]).astype(np.float64)
        cos, sin = np.cos(theta), np.sin(theta)
        # cell centres in each minutia's frame, rotated by its direction: (n, C, 2)
        rx = cos[:, None] * _OFFSETS[None, :, 0] - sin[:, None] * _OFFSETS[None, :, 1]
        ry = sin[:, None] * _OFFSETS[None, :, 0] + cos[:, None] * _OFFSETS[None, :, 1]
        centres = np.stack([pts[:, None, 0] + rx, pts[:, None, 1] + ry], axis=-1)
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
