"""The federal repository's print search, measured beside `custody bench e2e` on synthetic ten-prints.

The process the end-to-end benchmark drives identifies each booking by its identifiers: encoding ten
fingers for the pre-filter costs milliseconds each, and re-ranking a shortlist with bozorth3 about a
CPU-second a search, so searching every booking's prints inline would measure the matcher, not the
exchange. This measures, in the same run, what each step of a print search costs per booking on the
real gallery and its FAISS index (not a stub), so the two figures can be put side by side:

- ``encode_ms_per_finger``: a synthetic template's pre-filter code (cylinders, VLAD, signs);
- ``prefilter_ms``: a ten-print probe's pre-filter lookup against the gallery (every enrolled
  finger's code at the probe's positions scanned, scores fused, the shortlist taken);
- ``rerank_cpu_s``: bozorth3 re-ranking of that shortlist in this process (one core).

The gallery holds ``identities`` identities whose ten fingers are drawn, cyclically, from a pool of
distinct synthetic persons: the cost of a lookup depends on how many codes it scans, not on what
they hold, and re-ranking compares real templates either way.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from custody.identity.prints.compare import Workers
from custody.identity.prints.descriptors import Codes, Encoder, train_codebook
from custody.identity.prints.gallery import DEFAULT_SHORTLIST, Gallery, Identity
from custody.identity.prints.matcher import NbisMatcher, search_matcher
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template

DISTINCT = 20  # synthetic persons whose fingers fill the gallery
FINGERS = range(1, 11)


def measure(identities: int, seed: int, searches: int = 5, reranked: int = 2) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    encoder = Encoder(train_codebook())
    people: list[dict[int, Template]] = [
        {p: synthetic_template(rng, position=p) for p in FINGERS} for _ in range(DISTINCT)
    ]
    began = time.process_time()
    codes: list[dict[int, Codes]] = [{p: encoder.encode(t) for p, t in person.items()} for person in people]
    encode_ms = (time.process_time() - began) * 1000 / (DISTINCT * len(FINGERS))
    with tempfile.TemporaryDirectory(prefix="custody-bench-gallery-") as folder:
        gallery = Gallery.create(Path(folder) / "gallery", extractor=NbisMatcher.version, codebook=encoder.codebook)
        for i in range(identities):
            gallery.enrol(Identity(f"idn_{i}", (f"PERSON, {i}",)), people[i % DISTINCT], codes=codes[i % DISTINCT])
        size = gallery.shortlist_size(len(FINGERS), DEFAULT_SHORTLIST) or len(gallery)
        lookups = []
        for s in range(searches):
            began = time.process_time()
            gallery.shortlist(codes[s % DISTINCT], size)
            lookups.append(time.process_time() - began)
        reranks = []
        with Workers(search_matcher) as pool:
            for s in range(reranked):
                began = time.process_time()
                gallery.search(people[s % DISTINCT], pool.compare_records, shortlist=DEFAULT_SHORTLIST)
                reranks.append(time.process_time() - began)
    return {
        "gallery_identities": identities,
        "shortlist": size,
        "encode_ms_per_finger": round(encode_ms, 2),
        "prefilter_ms": round(statistics.median(lookups) * 1000, 2),
        "rerank_cpu_s": round(statistics.median(reranks), 3),
        # one booking's ten-print search, on one core: encoding its ten fingers, the lookup, the re-ranking
        "searches_per_cpu_s": round(
            1 / (encode_ms * len(FINGERS) / 1000 + statistics.median(lookups) + statistics.median(reranks)), 2
        ),
    }
