from __future__ import annotations

import pytest

from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import Matcher, NbisMatcher
from custody.identity.prints.pipeline import MATCHERS
from custody.identity.prints.templates import Template, decode_iso, encode_iso


@pytest.fixture(scope="module", params=sorted(MATCHERS))
def matcher(request: pytest.FixtureRequest) -> Matcher:
    return MATCHERS[request.param]()


@pytest.fixture(scope="module")
def templates(matcher: Matcher, samples: dict[str, Capture]) -> dict[str, Template]:
    return {name: matcher.extract(capture) for name, capture in samples.items()}


def test_mates_score_above_every_non_mate(matcher: Matcher, templates: dict[str, Template]) -> None:
    mates = [
        matcher.compare(templates["p1_1"], templates["p1_2"]),
        matcher.compare(templates["p2_1"], templates["p2_2"]),
    ]
    non_mates = [matcher.compare(templates[a], templates[b]) for a in ("p1_1", "p1_2") for b in ("p2_1", "p2_2")]
    assert min(mates) > max(non_mates)


def test_extracted_minutiae_lie_inside_the_image(templates: dict[str, Template], samples: dict[str, Capture]) -> None:
    for name, template in templates.items():
        assert len(template.minutiae) > 20
        assert all(0 <= m.x < samples[name].width and 0 <= m.y < samples[name].height for m in template.minutiae)


def test_iso_stored_template_scores_like_the_fresh_one(matcher: Matcher, templates: dict[str, Template]) -> None:
    stored = decode_iso(encode_iso(templates["p1_1"]))
    fresh = templates["p1_1"]
    for other in ("p1_2", "p2_1"):
        assert matcher.compare(stored, templates[other]) == pytest.approx(
            matcher.compare(fresh, templates[other]), abs=2
        )


def test_nfiq2_is_recorded_when_asked(samples: dict[str, Capture]) -> None:
    assert NbisMatcher(nfiq2=True).extract(samples["p1_1"]).quality > 0
    assert NbisMatcher().extract(samples["p1_1"]).quality == 0
