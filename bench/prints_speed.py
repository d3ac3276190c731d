"""Speed of comparison and extraction on one core, as ratios against a baseline run in the same process.

Baseline: plain bozorth3 through nbis-py on templates it extracted itself (no conversion). Measured:
comparisons per second for plain NBIS through custody's Matcher and for custody's engine (cylinders
built once per image, as each worker of ``custody prints compare`` does; their cost is printed as
preparation per image); extraction milliseconds per image (custody's runs mindtct twice, on the
capture and on its enhanced image), with and without NFIQ 2. One BLAS thread, as in the workers.
Figures are CPU time of this process (wall time on a shared machine says more about the neighbours)
and the same-run ratio. Needs ../shared (FVC2004 DB1_B) or falls back to the shipped samples.

    .venv/bin/python bench/prints_speed.py [--comparisons 2000]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from custody.identity.prints.images import encode_for_extractor, load
from custody.identity.prints.matcher import Matcher, NbisMatcher
from custody.identity.prints.pipeline import CustodyMatcher

ROOT = Path(__file__).resolve().parents[1]
FVC = ROOT.parent / "shared" / "data" / "fingerprints" / "fvc2004_db1_b"
SAMPLES = ROOT / "tests" / "identity" / "prints" / "data"


def rate(work: Callable[[], object], count: int) -> float:
    """Calls per CPU second of this process."""
    start = time.process_time()
    for _ in range(count):
        work()
    return count / max(time.process_time() - start, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=2000)
    args = parser.parse_args()
    threadpool_limits(1)
    folder = FVC if FVC.exists() else SAMPLES
    captures = [load(p) for p in sorted(folder.glob("*.png"))[:16]]
    nbis_matcher, custody = NbisMatcher(), CustodyMatcher()
    raw = nbis_matcher._extractor  # the binding itself: the baseline
    natives = [raw.extract_minutiae(encode_for_extractor(c)) for c in captures]
    pairs = itertools.cycle(list(itertools.combinations(range(len(captures)), 2)))

    def native() -> object:
        a, b = next(pairs)
        return natives[a].compare(natives[b])

    def through(matcher: Matcher[Any], features: list[Any]) -> Callable[[], object]:
        def one() -> object:
            a, b = next(pairs)
            return matcher.compare(features[a], features[b])

        return one

    base = rate(native, args.comparisons)
    print(f"images: {folder} ({len(captures)})")
    print(f"baseline nbis-py bozorth3: {base:8.0f} comparisons/s on one core (CPU time)")
    templates = [nbis_matcher.extract(c) for c in captures]
    features = [custody.extract(c) for c in captures]
    prepare_ms = 1000 / rate(lambda: [f.cylinders() for f in features], 1) / len(features)
    for name, matcher, found in (("nbis via Matcher", nbis_matcher, templates), ("custody", custody, features)):
        r = rate(through(matcher, found), args.comparisons)
        print(f"{name:26}: {r:8.0f} comparisons/s  ({r / base:.2f}× baseline)")
    print(f"custody cylinders: {prepare_ms:.1f} ms per image, once per image and worker")
    it = itertools.cycle(captures)
    raw_ms = 1000 / rate(lambda: raw.extract_minutiae(encode_for_extractor(next(it))), 2 * len(captures))
    ours_ms = 1000 / rate(lambda: nbis_matcher.extract(next(it)), 2 * len(captures))
    custody_ms = 1000 / rate(lambda: custody.extract(next(it)), len(captures))
    nfiq_ms = 1000 / rate(lambda: NbisMatcher(nfiq2=True).extract(next(it)), len(captures))
    print(f"extraction: binding {raw_ms:.1f} ms/image; Matcher.extract {ours_ms:.1f} ms ({ours_ms / raw_ms:.2f}×)")
    print(f"            custody (enhancement + mindtct twice) {custody_ms:.1f} ms ({custody_ms / raw_ms:.2f}×)")
    print(f"            with NFIQ 2 {nfiq_ms:.1f} ms ({nfiq_ms / raw_ms:.2f}×)")


if __name__ == "__main__":
    main()
