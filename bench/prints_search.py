"""1:N search with the FAISS pre-filter against exhaustive bozorth3, in one run.

Galleries of N identities (ten fingers each, synthetic distractors from
custody.identity.prints.synthetic; a pool of them is reused across identities, which if anything
crowds a real mate out of the shortlist) plus the 20 real fingers of FVC2004 DB1_B (enrolled at
finger position 2) and DB2_B (position 7), impression 1 each. Probes: impressions 2-8 of every
real finger (140 mated searches); the same searches with the mate left out are the non-mated ones
(FPIR). Printed per size: penetration, mates lost by the pre-filter, FNIR at FPIR 1 % and 0.1 %
(140/140 searches: 0.1 % is below what 140 non-mated searches can resolve, so it reads as FPIR 0)
for pre-filter and exhaustive search, and ten-print search time on the given cores, each as a
ratio of the exhaustive baseline. The exhaustive ten-print time is measured at the smallest size and
scaled linearly (its cost is one bozorth3 run per finger per identity). Images are read from
../shared, never copied.

    .venv/bin/python bench/prints_search.py [--sizes 1000 10000] [--workers 2] [--shortlist 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from custody.identity.prints.compare import Workers
from custody.identity.prints.descriptors import Encoder, train_codebook
from custody.identity.prints.gallery import Gallery, Identity, SearchResult
from custody.identity.prints.images import load
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fingerprints"
POSITION = {"fvc2004_db1_b": 2, "fvc2004_db2_b": 7}
POOL = 4000


def _pool_item(seed: int) -> tuple[Template, np.ndarray]:
    global _encoder
    template = synthetic_template(np.random.default_rng(seed))
    return template, _encoder.encode(template)


_encoder: Encoder


def _init(codebook: np.ndarray) -> None:
    global _encoder
    _encoder = Encoder(codebook)


def fnir_at(mated: list[float], non_mated: list[float], fpir: float) -> float:
    """FNIR at the lowest threshold whose FPIR (non-mated searches with a candidate at or above it) <= fpir."""
    nm = np.sort(np.asarray(non_mated))[::-1]
    allowed = int(np.floor(fpir * len(nm)))
    threshold = nm[allowed] + 1e-9 if allowed < len(nm) else -np.inf
    return float(np.mean(np.asarray(mated) < threshold))


def outcome(result: SearchResult, mate: str) -> tuple[float, float, bool]:
    """Mated score (0 if the mate was not compared), best non-mated score, mate compared."""
    mated = [c.score for c in result.candidates if c.identity.id == mate]
    others = [c.score for c in result.candidates if c.identity.id != mate]
    return (mated[0] if mated else 0.0), (max(others) if others else 0.0), bool(mated)


def main() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shortlist", type=int, default=100)
    parser.add_argument("--exhaustive-up-to", type=int, default=1000, help="largest size searched exhaustively")
    args = parser.parse_args()
    codebook = train_codebook()
    log = sys.stderr
    with Workers(NbisMatcher, args.workers) as workers:
        real: dict[str, dict[int, Template]] = {}
        paths = {db: sorted((SHARED / db).glob("*.png")) for db in POSITION}
        t0 = time.perf_counter()
        flat = [(db, p) for db, ps in paths.items() for p in ps]
        extracted = workers.extract([(load(p), str(p)) for _db, p in flat])
        for (db, p), tpl in zip(flat, extracted, strict=True):
            finger, impression = p.stem.split("_")
            if isinstance(tpl, Template):
                real.setdefault(f"{db}-{finger}", {})[int(impression)] = tpl
        print(f"extracted {len(flat)} FVC images in {time.perf_counter() - t0:.0f} s", file=log)
        with ProcessPoolExecutor(
            args.workers,
            initializer=_init,
            initargs=(codebook,),
            mp_context=multiprocessing.get_context("spawn"),  # FAISS's OpenMP hangs in a forked child
        ) as pool:
            items = list(pool.map(_pool_item, range(POOL), chunksize=64))
        print(f"{POOL} synthetic distractor fingers made", file=log)
        exhaustive_per_identity = None
        print(f"shortlist {args.shortlist} identities; {args.workers} cores")
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                gallery = Gallery.create(Path(tmp) / "g", extractor=NbisMatcher.version, codebook=codebook)
                t0 = time.perf_counter()
                for i in range(size):
                    picks = {p: items[(i * 10 + p * 7919) % POOL] for p in range(1, 11)}
                    gallery.enrol(
                        Identity(f"d{i}", (f"DISTRACTOR {i}",)),
                        {p: t for p, (t, _c) in picks.items()},
                        codes={p: c for p, (_t, c) in picks.items()},
                    )
                for key, impressions in real.items():
                    position = POSITION[key.split("-")[0]]
                    gallery.enrol(Identity(key, (key,)), {position: impressions[1]})
                gallery.save()
                build = time.perf_counter() - t0
                t0 = time.perf_counter()
                gallery = Gallery.open(Path(tmp) / "g")
                opened = time.perf_counter() - t0
                print(f"\n{len(gallery)} identities: built {build:.0f} s, opened in {opened:.2f} s", file=log)
                modes: dict[str, int | None] = {"pre-filter": args.shortlist}
                if size <= args.exhaustive_up_to:
                    modes["exhaustive"] = None
                figures: dict[str, dict[str, float]] = {}
                for mode, shortlist in modes.items():
                    mated, non_mated, lost, compared = [], [], 0, []
                    for key, impressions in real.items():
                        position = POSITION[key.split("-")[0]]
                        for n, tpl in impressions.items():
                            if n == 1:
                                continue
                            result = gallery.search({position: tpl}, workers.compare, shortlist=shortlist, top=10**9)
                            m, nm, found = outcome(result, key)
                            mated.append(m)
                            non_mated.append(nm)
                            lost += not found
                            compared.append(result.penetration)
                    figures[mode] = {
                        "penetration": float(np.mean(compared)),
                        "lost": lost / len(mated),
                        "fnir1": fnir_at(mated, non_mated, 0.01),
                        "fnir01": fnir_at(mated, non_mated, 0.001),
                        "searches": len(mated),
                    }
                probe = {p: items[(123457 + p) % POOL][0] for p in range(1, 11)}
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    gallery.search(probe, workers.compare, shortlist=args.shortlist)
                    times.append(time.perf_counter() - t0)
                figures["pre-filter"]["seconds"] = float(np.median(times))
                if exhaustive_per_identity is None:
                    t0 = time.perf_counter()
                    gallery.search(probe, workers.compare, shortlist=None)
                    exhaustive_per_identity = (time.perf_counter() - t0) / len(gallery)
                ex_seconds = exhaustive_per_identity * len(gallery)
                pre = figures["pre-filter"]
                print(
                    f"N={size} (+20 real): ten-print search {pre['seconds']:.2f} s with the pre-filter, "
                    f"exhaustive {ex_seconds:.1f} s{' (scaled)' if size != args.sizes[0] else ''} "
                    f"-> {pre['seconds'] / ex_seconds:.3f}x"
                )
                for mode, f in figures.items():
                    print(
                        f"  {mode:10} penetration {f['penetration']:.4f}  mates not compared {f['lost']:.2%}  "
                        f"FNIR@FPIR1% {f['fnir1']:.2%}  FNIR@FPIR0.1% {f['fnir01']:.2%}  ({f['searches']:.0f} searches)"
                    )
                if "exhaustive" in figures:
                    e = figures["exhaustive"]
                    print(
                        f"  ratios pre-filter/exhaustive: FNIR@1% {pre['fnir1'] / max(e['fnir1'], 1e-9):.2f}, "
                        f"FNIR@0.1% {pre['fnir01'] / max(e['fnir01'], 1e-9):.2f}, "
                        f"penetration {pre['penetration'] / e['penetration']:.4f}"
                    )


if __name__ == "__main__":
    main()
