"""Speed of comparison and extraction on one core, as ratios against a baseline run in the same process.

Baseline: plain bozorth3 through nbis-py on templates it extracted itself (no conversion). Measured:
comparisons per second for plain NBIS through custody's Matcher (templates loaded from the
standard-independent binding record) and for the fused matcher; extraction milliseconds per
image, with and without NFIQ 2. Needs ../shared (FVC2004 DB1_B) or falls back to the shipped
samples. Only same-run ratios mean anything on a shared machine.

    .venv/bin/python bench/prints_speed.py [--comparisons 2000]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path

from custody.identity.prints.images import encode_for_extractor, load
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.pipeline import FusedMatcher

ROOT = Path(__file__).resolve().parents[1]
FVC = ROOT.parent / "shared" / "data" / "fingerprints" / "fvc2004_db1_b"
SAMPLES = ROOT / "tests" / "identity" / "prints" / "data"


def rate(work: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        work()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=2000)
    args = parser.parse_args()
    folder = FVC if FVC.exists() else SAMPLES
    captures = [load(p) for p in sorted(folder.glob("*.png"))[:16]]
    nbis_matcher, fused = NbisMatcher(), FusedMatcher()
    raw = nbis_matcher._extractor  # the binding itself: the baseline
    natives = [raw.extract_minutiae(encode_for_extractor(c)) for c in captures]
    templates = [nbis_matcher.extract(c) for c in captures]
    pairs = itertools.cycle(list(itertools.combinations(range(len(captures)), 2)))

    def native() -> object:
        a, b = next(pairs)
        return natives[a].compare(natives[b])

    def through(matcher: NbisMatcher | FusedMatcher) -> Callable[[], object]:
        def one() -> object:
            a, b = next(pairs)
            return matcher.compare(templates[a], templates[b])

        return one

    base = rate(native, args.comparisons)
    print(f"images: {folder} ({len(captures)})")
    print(f"baseline nbis-py bozorth3: {base:8.0f} comparisons/s on one core")
    for name, matcher in (("nbis via Matcher", nbis_matcher), ("custody fused", fused)):
        r = rate(through(matcher), args.comparisons)
        print(f"{name:26}: {r:8.0f} comparisons/s  ({r / base:.2f}× baseline)")
    it = itertools.cycle(captures)
    raw_ms = 1000 / rate(lambda: raw.extract_minutiae(encode_for_extractor(next(it))), 2 * len(captures))
    ours_ms = 1000 / rate(lambda: nbis_matcher.extract(next(it)), 2 * len(captures))
    nfiq_ms = 1000 / rate(lambda: NbisMatcher(nfiq2=True).extract(next(it)), len(captures))
    print(f"extraction: binding {raw_ms:.1f} ms/image; Matcher.extract {ours_ms:.1f} ms ({ours_ms / raw_ms:.2f}×)")
    print(f"            with NFIQ 2 {nfiq_ms:.1f} ms ({nfiq_ms / raw_ms:.2f}×)")


if __name__ == "__main__":
    main()
