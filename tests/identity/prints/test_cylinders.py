from __future__ import annotations

import math

from custody.identity.prints.cylinders import Cylinders, MatchingCylinders, relaxed_similarity, similarity
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.templates import Minutia, MinutiaKind, Template


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


def test_matching_cylinders_ignore_rotation_and_translation(samples: dict[str, Capture]) -> None:
    matcher = NbisMatcher()
    probe = matcher.extract(samples["p1_1"])
    mate = matcher.extract(samples["p1_2"])
    other = matcher.extract(samples["p2_1"])
    itself = relaxed_similarity(MatchingCylinders(probe), MatchingCylinders(_turned(probe, 30, (25, -40))))
    with_mate = relaxed_similarity(MatchingCylinders(probe), MatchingCylinders(mate))
    with_other = relaxed_similarity(MatchingCylinders(probe), MatchingCylinders(other))
    assert itself > with_mate > with_other


def test_cells_off_the_finger_are_not_compared(samples: dict[str, Capture]) -> None:
    template = NbisMatcher().extract(samples["p1_1"])
    cylinders = MatchingCylinders(template)
    assert 0 < len(cylinders) <= len(template.minutiae)
    # every usable cylinder has part of its base off the minutiae's hull, and at least 75 % on it
    share = cylinders.valid.mean(axis=1)
    assert share.min() >= 0.75 and share.mean() < 1


def test_low_quality_minutiae_are_left_out() -> None:
    grid = [(x, y) for x in range(60, 300, 30) for y in range(60, 300, 30)]
    minutiae = tuple(
        Minutia(x, y, (7 * i) % 360, MinutiaKind.ENDING, 5 if i % 2 else 80) for i, (x, y) in enumerate(grid)
    )
    template = Template(360, 360, minutiae)
    assert MatchingCylinders(template, min_quality=10).count == len(grid) // 2
    assert MatchingCylinders(template).count == len(grid)


def test_nothing_to_compare_scores_zero(samples: dict[str, Capture]) -> None:
    empty = MatchingCylinders(Template(300, 300, ()))
    assert len(empty) == 0
    assert relaxed_similarity(empty, MatchingCylinders(NbisMatcher().extract(samples["p1_1"]))) == 0.0


def test_a_print_compared_with_itself_scores_as_with_a_copy_of_it(samples: dict[str, Capture]) -> None:
    """Found by a review: the same file as probe and reference scored 99.668, a copy of it 99.68."""
    probe = NbisMatcher().extract(samples["p1_1"])
    cylinders = MatchingCylinders(probe)
    assert relaxed_similarity(cylinders, cylinders) == relaxed_similarity(cylinders, MatchingCylinders(probe))
