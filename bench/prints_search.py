"""1:N ten-print search: the FAISS pre-filter against exhaustive bozorth3, in one run.

Real mated data: FVC2004 DB1_B and DB2_B hold 10 fingers x 8 impressions each. Each database
becomes one person: its fingers 101..110 are that person's finger positions 1..10 (right thumb to
left little), enrolled with impression 1. A ten-print search takes, for every finger, one of
impressions 2-8 at random (``--searches`` per person). A search with k fingers (k = 1..9, a booking
where some captures were refused) takes k random positions of such a probe.

Distractors (``--distractors real``, the default): identity i's finger at position k is a real
FVC2004 template of a finger that is NOT finger 10k of either database (18 fingers x 8
impressions = 144 per position), so every distractor is a true non-mate and scores like one,
both in descriptor space and with bozorth3. Copies keep the original's code and are shifted by a
random whole number of pixels, which leaves their bozorth3 scores unchanged (it is
translation-invariant) but makes them distinct templates, so the matcher's cache of loaded
templates does not flatter the timings. With
``--distractors synthetic`` they come from custody.identity.prints.synthetic instead: those are
far easier to tell from real fingers, so the losses they give are optimistic; use them for speed.

Printed per gallery size N (+2 real people):
- penetration vs pre-filter loss: share of mated searches whose mate ranks below each penetration;
- pre-filter loss by the number of fingers in the probe (``--fewer-searches`` each), at the share
  of the gallery the search keeps for that many (gallery.PENETRATION; three or fewer: all);
- FNIR at FPIR 1 % and 0.1 % after bozorth3 re-ranking of the shortlist and exhaustively
  (N <= --exhaustive-up-to): a search's non-mated score is its best other candidate (the same
  search with the mate left out), its mated score the mate's fused score (0 if not shortlisted);
- ten-print search time on the worker processes: pre-filter alone, with re-ranking, and exhaustive
  (measured at the smallest size if it is at most --exhaustive-up-to, scaled linearly), wall and CPU
  seconds and the ratio; and one search with a single finger (compared with every identity);
- the memory of the FAISS indexes.

Accuracy runs reuse bozorth3 scores of template pairs already compared (the scores are exact;
timing runs do not). Images are read from ../shared, never copied.

    .venv/bin/python bench/prints_search.py [--sizes 1000 10000 100000] [--workers 2] [--shortlist 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from custody.identity.prints import gallery as gallery_module
from custody.identity.prints.compare import Workers
from custody.identity.prints.descriptors import Codes, Encoder, train_codebook
from custody.identity.prints.gallery import Compare, Gallery, Identity, SearchResult
from custody.identity.prints.images import load
from custody.identity.prints.matcher import NbisMatcher, search_matcher
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Minutia, Template, decode_iso, encode_iso

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fingerprints"
DATABASES = ("fvc2004_db1_b", "fvc2004_db2_b")
POSITIONS = range(1, 11)
PENETRATIONS = (0.001, 0.002, 0.003, 0.004, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
SYNTHETIC_POOL = 2000
SHIFT = 64  # pixels: distractor copies are shifted by up to this much
SHIFTED_COPIES = 16  # of each real template: 23,040 distinct distractor fingers, beyond the matcher's cache

Finger = tuple[Template, Codes]


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


def shifted(template: Template, rng: np.random.Generator) -> Template:
    """The same minutiae moved by a random offset inside an image grown to hold them."""
    dx, dy = (int(v) for v in rng.integers(0, SHIFT, 2))
    minutiae = tuple(Minutia(m.x + dx, m.y + dy, m.angle, m.kind, m.quality) for m in template.minutiae)
    return Template(template.width + dx, template.height + dy, minutiae, ppi=template.ppi)


def _anchored(template: Template) -> bytes:
    """A key equal for shifted copies of one template (their bozorth3 scores are equal); bytes, whose
    hash Python keeps, so the cache lookups of a 10,000-pair search do not rehash every minutia."""
    x0 = min((m.x for m in template.minutiae), default=0)
    y0 = min((m.y for m in template.minutiae), default=0)
    return repr([(m.x - x0, m.y - y0, m.angle, int(m.kind), m.quality) for m in template.minutiae]).encode()


def remembering(compare: Compare) -> Compare:
    """``compare`` that scores each distinct (probe, reference) pair once across searches. Probes are
    told apart by identity: each search's probe templates live for the whole run."""
    known: dict[tuple[int, bytes], float] = {}

    def run(pairs: list[tuple[Template, bytes]]) -> list[float]:
        keys = [(id(a), _anchored(decode_iso(b))) for a, b in pairs]
        missing = {k: pair for k, pair in zip(keys, pairs, strict=True) if k not in known}
        known.update(zip(missing, compare(list(missing.values())), strict=True))
        return [known[k] for k in keys]

    return run


def cpu_seconds() -> float:
    """CPU time of this process and its live children (the worker pool), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    me = str(os.getpid())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def timed(run: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def build(
    path: Path, size: int, pools: dict[int, list[Finger]], people: dict[str, dict[int, Finger]], encoder: Encoder
) -> Gallery:
    """``size`` distractors drawn from ``pools``, then the real people, saved and reopened."""
    rng = np.random.default_rng(size)
    gallery = Gallery.create(path, extractor=NbisMatcher.version, codebook=encoder.codebook)
    for i in range(size):
        picks = {k: pools[k][int(rng.integers(len(pools[k])))] for k in POSITIONS}
        gallery.enrol(
            Identity(f"d{i}", (f"DISTRACTOR {i}",)),
            {k: t for k, (t, _c) in picks.items()},
            codes={k: c for k, (_t, c) in picks.items()},
        )
    for name, fingers in people.items():
        gallery.enrol(
            Identity(name, (name,)),
            {k: t for k, (t, _c) in fingers.items()},
            codes={k: c for k, (_t, c) in fingers.items()},
        )
    gallery.save()
    return Gallery.open(path)


def accuracy(
    gallery: Gallery,
    searches: list[tuple[str, dict[int, Template]]],
    encoder: Encoder,
    compare: Compare,
    shortlist: int,
    exhaustive: bool,
) -> str:
    """Penetration-vs-loss curve, shortlist loss and FNIR at FPIR 1 % / 0.1 %, as printable lines."""
    n = len(gallery)
    modes: dict[str, int | None] = {"pre-filter": shortlist} | ({"exhaustive": None} if exhaustive else {})
    scores: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modes}
    ranks, lost = [], 0
    for i, (person, probe) in enumerate(searches):
        if i % 50 == 0:
            print(f"  {i}/{len(searches)} searches at N = {n}", file=sys.stderr, flush=True)
        order = gallery.shortlist({k: encoder.encode(t) for k, t in probe.items()}, n)
        mate = n - len(DATABASES) + DATABASES.index(person)
        ranks.append(order.index(mate) + 1 if mate in order else n + 1)
        for mode, size in modes.items():
            m, nm, found = outcome(gallery.search(probe, compare, shortlist=size, top=n), person)
            scores[mode][0].append(m)
            scores[mode][1].append(nm)
            lost += mode == "pre-filter" and not found
    curve = "  ".join(f"{p:.1%}: {np.mean(np.asarray(ranks) > max(1, round(p * n))):.1%}" for p in PENETRATIONS)
    lines = [
        f"pre-filter loss at penetration  {curve}",
        f"shortlist {shortlist} = penetration {shortlist / n:.4f}: mates not shortlisted {lost / len(searches):.1%} "
        f"({lost}/{len(searches)}); median mate rank {np.median(ranks):.0f}",
    ]
    fnir = {}
    for mode, (mated, non_mated) in scores.items():
        fnir[mode] = (fnir_at(mated, non_mated, 0.01), fnir_at(mated, non_mated, 0.001))
        lines.append(
            f"{mode:10} FNIR@FPIR1% {fnir[mode][0]:.1%}  FNIR@FPIR0.1% {fnir[mode][1]:.1%}  "
            f"({len(mated)} mated / {len(non_mated)} non-mated searches)"
        )
    if exhaustive:
        (pre1, pre01), (ex1, ex01) = fnir["pre-filter"], fnir["exhaustive"]
        ratios = [
            f"{a / b:.2f}" if b else ("equal (both 0)" if a == b else "inf") for a, b in ((pre1, ex1), (pre01, ex01))
        ]
        lines.append(f"FNIR ratio pre-filter/exhaustive: @1% {ratios[0]}, @0.1% {ratios[1]}")
    return "\n".join(lines)


def fewer_fingers(gallery: Gallery, people: dict[str, dict[int, list[Codes]]], searches: int, shortlist: int) -> str:
    """Pre-filter loss for probes of 1..10 fingers, at the shortlist the search keeps for each."""
    if searches < 1:
        return "pre-filter loss by fingers in the probe: not measured (--fewer-searches 0)"
    rng = np.random.default_rng(len(gallery))
    n, names = len(gallery), list(people)
    cells = []
    for k in range(1, 11):
        kept = gallery.shortlist_size(k, shortlist)
        lost = 0
        for i in range(searches):
            name = names[i % len(names)]
            positions = rng.choice(list(POSITIONS), k, replace=False)
            codes = {int(p): people[name][int(p)][int(rng.integers(len(people[name][int(p)])))] for p in positions}
            if kept is not None:
                lost += (n - len(DATABASES) + DATABASES.index(name)) not in gallery.shortlist(codes, kept)
        share = "all" if kept is None else f"{kept / n:.1%}"
        cells.append(f"{k}: {lost / searches:.1%} at {share}")
    return "pre-filter loss by fingers in the probe  " + "  ".join(cells)


def search_times(
    gallery: Gallery, probes: list[dict[int, Template]], encoder: Encoder, compare: Compare, shortlist: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of the pre-filter alone and of the whole search with re-ranking."""
    alone, whole = [], []
    for probe in probes:
        alone.append(timed(lambda p=probe: gallery.shortlist({k: encoder.encode(t) for k, t in p.items()}, shortlist)))
        whole.append(timed(lambda p=probe: gallery.search(p, compare, shortlist=shortlist)))
    median = lambda runs: (float(np.median([w for w, _ in runs])), float(np.median([c for _, c in runs])))  # noqa: E731
    return median(alone), median(whole)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shortlist", type=int, default=gallery_module.DEFAULT_SHORTLIST)
    parser.add_argument("--searches", type=int, default=100, help="ten-print mated searches per real person")
    parser.add_argument("--fewer-searches", type=int, default=400, help="pre-filter searches per number of fingers")
    parser.add_argument("--distractors", choices=("real", "synthetic"), default="real")
    parser.add_argument("--exhaustive-up-to", type=int, default=1000, help="largest size searched exhaustively")
    parser.add_argument("--timed-searches", type=int, default=3)
    args = parser.parse_args()
    log = sys.stderr
    rng = np.random.default_rng(2004)
    encoder = Encoder(train_codebook())
    with Workers(search_matcher, args.workers) as workers:
        t0 = time.perf_counter()
        files = [(db, p) for db in DATABASES for p in sorted((SHARED / db).glob("*.png"))]
        real: dict[tuple[str, int], dict[int, Finger]] = {}  # (database, position) -> impression -> finger
        for (db, p), tpl in zip(files, workers.extract([(load(p), str(p)) for _db, p in files]), strict=True):
            finger, impression = (int(v) for v in p.stem.split("_"))
            if isinstance(tpl, Template):
                real.setdefault((db, finger - 100), {})[impression] = (tpl, encoder.encode(tpl))
        print(f"extracted and encoded {len(files)} FVC2004 images in {time.perf_counter() - t0:.0f} s", file=log)
        if args.distractors == "real":
            pools = {
                k: [
                    (shifted(t, rng), c)
                    for (_db, position), imps in real.items()
                    if position != k
                    for t, c in imps.values()
                    for _ in range(SHIFTED_COPIES)
                ]
                for k in POSITIONS
            }
        else:
            synthetic = [(t, encoder.encode(t)) for t in (synthetic_template(rng) for _ in range(SYNTHETIC_POOL))]
            pools = {k: synthetic for k in POSITIONS}
        # distractors repeat pool templates: write each one's ISO record once (the bytes are the same)
        gallery_module.encode_iso = lru_cache(maxsize=None)(encode_iso)
        people = {db: {k: real[(db, k)][1] for k in POSITIONS} for db in DATABASES}
        ten_print = [
            (db, {k: real[(db, k)][int(rng.integers(2, 9))][0] for k in POSITIONS})
            for db in DATABASES
            for _ in range(args.searches)
        ]
        probe_codes = {
            db: {k: [c for n, (_t, c) in real[(db, k)].items() if n != 1] for k in POSITIONS} for db in DATABASES
        }
        print(
            f"{args.distractors} distractors; shortlist {args.shortlist} identities; {args.workers} worker processes; "
            f"{len(ten_print)} ten-print mated searches (each also non-mated); {args.fewer_searches} pre-filter "
            "searches for each number of fingers"
        )
        exhaustive_per_identity: tuple[float, float] | None = None
        compare = workers.compare_records
        remembered = remembering(compare)
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                gallery = build(Path(tmp) / "g", size, pools, people, encoder)
                n = len(gallery)
                index_bytes = sum(p.stat().st_size for p in (Path(tmp) / "g").glob("index-*"))
                print(
                    f"\nN = {n} identities ({size} distractors + {len(people)} people), built and opened in "
                    f"{time.perf_counter() - t0:.0f} s; FAISS indexes and row maps {index_bytes / 2**20:.0f} MiB "
                    f"({index_bytes / n / len(POSITIONS):.0f} bytes a finger)"
                )
                figures = accuracy(
                    gallery, ten_print, encoder, remembered, args.shortlist, size <= args.exhaustive_up_to
                )
                print("\n".join(f"  ten-print {line}" for line in figures.splitlines()), flush=True)
                print("  " + fewer_fingers(gallery, probe_codes, args.fewer_searches, args.shortlist), flush=True)
                probes = [probe for _db, probe in ten_print[: args.timed_searches]]
                (pre_wall, pre_cpu), (full_wall, full_cpu) = search_times(
                    gallery, probes, encoder, compare, args.shortlist
                )
                if exhaustive_per_identity is None and size <= args.exhaustive_up_to:
                    wall, cpu = timed(lambda g=gallery, p=probes[0]: g.search(p, compare, shortlist=None))
                    exhaustive_per_identity = (wall / n, cpu / n)
                exhaustive = "exhaustive not timed (no size at most --exhaustive-up-to came first)"
                if exhaustive_per_identity is not None:
                    ex_wall, ex_cpu = (v * n for v in exhaustive_per_identity)
                    exhaustive = (
                        f"exhaustive {ex_wall:.1f} s / {ex_cpu:.1f} s CPU"
                        f"{' (scaled from the first size)' if size != args.sizes[0] else ''}; ratio with "
                        f"re-ranking / exhaustive {full_wall / ex_wall:.4f} wall, {full_cpu / ex_cpu:.4f} CPU"
                    )
                single_wall, single_cpu = timed(
                    lambda g=gallery, p=probes[0]: g.search({1: p[1]}, compare, shortlist=args.shortlist)
                )
                print(
                    f"  ten-print search (median of {len(probes)}): pre-filter only {pre_wall:.2f} s wall / "
                    f"{pre_cpu:.2f} s CPU; with bozorth3 re-ranking {full_wall:.2f} s / {full_cpu:.2f} s CPU; "
                    f"{exhaustive}; one-finger search (every identity) {single_wall:.1f} s / {single_cpu:.1f} s CPU; "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
