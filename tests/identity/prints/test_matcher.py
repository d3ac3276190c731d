from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custody.identity.prints.compare import Workers
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import (
    BINDING_MINUTIAE,
    SEARCH_MINUTIAE,
    Matcher,
    NbisMatcher,
    binding_record,
    binding_record_of,
    search_matcher,
)
from custody.identity.prints.pipeline import MATCHERS, CustodyMatcher
from custody.identity.prints.templates import Template, decode_iso, encode_iso
from tests.identity.prints.test_templates import templates


@pytest.fixture(scope="module", params=sorted(MATCHERS))
def matcher(request: pytest.FixtureRequest) -> Matcher[Any]:
    return MATCHERS[request.param]()


@pytest.fixture(scope="module")
def features(matcher: Matcher[Any], samples: dict[str, Capture]) -> dict[str, Any]:
    return {name: matcher.extract(capture) for name, capture in samples.items()}


def test_mates_score_above_every_non_mate(matcher: Matcher[Any], features: dict[str, Any]) -> None:
    mates = [
        matcher.compare(features["p1_1"], features["p1_2"]),
        matcher.compare(features["p2_1"], features["p2_2"]),
    ]
    non_mates = [matcher.compare(features[a], features[b]) for a in ("p1_1", "p1_2") for b in ("p2_1", "p2_2")]
    assert min(mates) > max(non_mates)


def test_extracted_minutiae_lie_inside_the_image(
    matcher: Matcher[Any], features: dict[str, Any], samples: dict[str, Capture]
) -> None:
    for name, found in features.items():
        template = matcher.template(found)
        assert len(template.minutiae) > 20
        assert all(0 <= m.x < samples[name].width and 0 <= m.y < samples[name].height for m in template.minutiae)


def test_iso_stored_template_scores_like_the_fresh_one(samples: dict[str, Capture]) -> None:
    matcher = NbisMatcher()
    templates = {name: matcher.extract(samples[name]) for name in ("p1_1", "p1_2", "p2_1")}
    stored = decode_iso(encode_iso(templates["p1_1"]))
    for other in ("p1_2", "p2_1"):
        assert matcher.compare(stored, templates[other]) == pytest.approx(
            matcher.compare(templates["p1_1"], templates[other]), abs=2
        )


def test_custody_features_travel_to_a_worker_without_their_cylinders(samples: dict[str, Capture]) -> None:
    matcher = CustodyMatcher()
    probe, reference = matcher.extract(samples["p1_1"]), matcher.extract(samples["p1_2"])
    score = matcher.compare(probe, reference)  # builds and keeps the cylinders
    shipped = pickle.dumps(probe)
    assert len(shipped) < 20_000  # the two templates only: cylinders are megabytes' worth of floats
    assert matcher.compare(pickle.loads(shipped), reference) == score


def test_custody_compares_the_enhanced_image_too(samples: dict[str, Capture]) -> None:
    found = CustodyMatcher().extract(samples["p1_1"])
    assert found.enhanced.minutiae and found.enhanced.minutiae != found.plain.minutiae
    assert (found.enhanced.width, found.enhanced.height) == (found.plain.width, found.plain.height)


def test_nfiq2_is_recorded_when_asked(samples: dict[str, Capture]) -> None:
    assert NbisMatcher(nfiq2=True).extract(samples["p1_1"]).quality > 0
    assert NbisMatcher().extract(samples["p1_1"]).quality == 0


@given(templates, st.sampled_from([SEARCH_MINUTIAE, BINDING_MINUTIAE]))
def test_a_stored_record_reaches_bozorth3_as_its_decoded_template_would(template: Template, limit: int) -> None:
    record = encode_iso(template)
    assert binding_record_of(record, limit) == binding_record(decode_iso(record), limit)


def test_templates_cross_to_a_worker_whole(samples: dict[str, Capture]) -> None:
    template = NbisMatcher(nfiq2=True).extract(samples["p1_1"])
    template = Template(
        template.width, template.height, template.minutiae, 569, 7, template.quality, 1, template.extractor
    )
    copied = pickle.loads(pickle.dumps(template))
    assert copied == template and copied.extractor == template.extractor  # extractor is not compared


def test_records_score_as_their_templates(samples: dict[str, Capture]) -> None:
    matcher = search_matcher()
    templates = {name: matcher.extract(capture) for name, capture in samples.items()}
    pairs = [(templates[a], templates[b]) for a in ("p1_1", "p2_1") for b in ("p1_2", "p2_2")]
    assert matcher.compare_records([(a, encode_iso(b)) for a, b in pairs]) == matcher.compare_many(
        [(a, decode_iso(encode_iso(b))) for a, b in pairs]
    )


@pytest.mark.parametrize("processes", [1, 2])
def test_workers_score_records_as_the_matcher_does_in_order(samples: dict[str, Capture], processes: int) -> None:
    matcher = search_matcher()
    templates = {name: matcher.extract(capture) for name, capture in samples.items()}
    pairs = [(templates[a], encode_iso(templates[b])) for a in ("p1_1", "p2_1") for b in ("p1_2", "p2_2", "p1_1")]
    with Workers(search_matcher, processes) as pool:
        assert pool.compare_records(pairs) == matcher.compare_records(pairs)
    with Workers(CustodyMatcher, processes) as pool, pytest.raises(TypeError, match="bozorth3"):
        pool.compare_records(pairs)
