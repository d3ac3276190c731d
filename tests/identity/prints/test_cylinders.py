from __future__ import annotations

import math

from custody.identity.prints.cylinders import Cylinders, similarity
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.templates import Minutia, Template


def _turned(template: Template, degrees: float, shift: tuple[int, int]) -> Template:
    """The same finger placed turned and shifted on a larger platen."""
    a = math.radians(degrees)
    cx, cy = template.width / 2, template.height / 2
    moved = []
    for m in template.minutiae:
        dx, dy = m.x - cx, m.y - cy
        x = cx + dx * math.cos(a) - dy * math.sin(a) + shift[0] + 200
        y = cy + dx * math.sin(a) + dy * math.cos(a) + shift[1] + 200
        moved.append(Minutia(round(x), round(y), (m.angle - degrees) % 360, m.kind, m.quality))
    return Template(template.width + 400, template.height + 400, tuple(moved))


def test_cylinders_ignore_rotation_and_translation(samples: dict[str, Capture]) -> None:
    matcher = NbisMatcher()
    probe = matcher.extract(samples["p1_1"])
    other = matcher.extract(samples["p2_1"])
    same = similarity(Cylinders(probe), Cylinders(_turned(probe, 30, (25, -40))))
    assert same > 0.9
    assert same > similarity(Cylinders(probe), Cylinders(other)) + 0.2
