"""What the federal gallery costs as it grows: opening it, catching up with one enrolment another
process saved, and saving one enrolment (a booking whose prints found no one is kept this way,
inside its transaction).

A gallery of N identities of ten synthetic fingers (codes computed once for a pool of templates and
reused, so building it is quick) is saved, then in the same process: a full opening (the baseline:
what every booking's search paid before the process kept its gallery open), a refresh after another
instance saved one identity, and that identity's save. Ratios are against the full opening, in the
same run. Format 3 rewrote every index at each save; the figures of the tree before are in
docs/performance.md.

    .venv/bin/python bench/gallery_growth.py [--identities 20000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from custody.identity.prints.descriptors import Codes, Encoder, train_codebook
from custody.identity.prints.gallery import Gallery, Identity
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    encoder = Encoder(train_codebook(fingers=40))
    pool = [(t, encoder.encode(t)) for t in (synthetic_template(rng) for _ in range(200))]

    def fingers() -> tuple[dict[int, Template], dict[int, Codes]]:
        picks = rng.integers(0, len(pool), 10)
        return {p + 1: pool[k][0] for p, k in enumerate(picks)}, {p + 1: pool[k][1] for p, k in enumerate(picks)}

    with tempfile.TemporaryDirectory(prefix="custody-gallery-") as folder:
        path = Path(folder) / "gallery"
        built = Gallery.create(path, extractor=NbisMatcher.version, codebook=encoder.codebook)
        for i in range(args.identities):
            templates, codes = fingers()
            built.enrol(Identity(f"idn_{i}", ("SYNTHETIC",)), templates, codes=codes)
        first_save = _timed(built.save)
        print(f"built {args.identities:,} identities; first save {first_save:.2f} s", file=sys.stderr)
        opens, refreshes, saves = [], [], []
        kept = Gallery.open(path)
        for j in range(args.repeat):
            opens.append(_timed(lambda: Gallery.open(path)))
            other = Gallery.open(path)
            templates, codes = fingers()
            other.enrol(Identity(f"idn_new_{j}", ("SYNTHETIC",)), templates, codes=codes)
            saves.append(_timed(other.save))
            refreshes.append(_timed(kept.refresh))
            assert f"idn_new_{j}" in kept
    figures = {
        "identities": args.identities,
        "open_s": round(min(opens), 4),
        "refresh_after_one_s": round(min(refreshes), 5),
        "save_one_s": round(min(saves), 5),
        "refresh_ratio": round(min(refreshes) / min(opens), 5),
        "save_ratio": round(min(saves) / min(opens), 5),
    }
    print(json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
