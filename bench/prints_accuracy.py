"""Accuracy of plain NBIS (the baseline) and custody's engine on FVC2004 DB1_B and DB2_B, in one run.

FVC protocol: genuine pairs are all pairs of impressions of one finger (28 × 10 = 280), impostor
pairs all pairs across fingers (2,880 in the fuller curve). An image that cannot be used counts as
a non-match. Printed: EER, FNMR at FMR 1% and 0.1%, ZeroFMR, and custody's EER as a ratio of the
baseline's (target ≤ 0.7). The images are read from ../shared, never copied into the repository.

    .venv/bin/python bench/prints_accuracy.py [--db fvc2004_db1_b --db fvc2004_db2_b] [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from custody.identity.prints.compare import compare_pairs
from custody.identity.prints.evaluation import ErrorRates, error_rates
from custody.identity.prints.pipeline import matcher_factory

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fingerprints"


def fvc_pairs(folder: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    images = sorted(str(p) for p in folder.glob("*.png"))
    finger = {p: Path(p).stem.split("_")[0] for p in images}
    pairs = list(itertools.combinations(images, 2))
    return [p for p in pairs if finger[p[0]] == finger[p[1]]], [p for p in pairs if finger[p[0]] != finger[p[1]]]


def measure(engine: str, genuine: list[tuple[str, str]], impostor: list[tuple[str, str]], workers: int) -> ErrorRates:
    scores = [r.score for r in compare_pairs(genuine + impostor, matcher_factory(engine), workers=workers)]
    return error_rates(scores[: len(genuine)], scores[len(genuine) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", help="folder name under ../shared/data/fingerprints")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for db in args.db or ["fvc2004_db1_b", "fvc2004_db2_b"]:
        genuine, impostor = fvc_pairs(SHARED / db)
        print(f"{db}: {len(genuine)} genuine, {len(impostor)} impostor pairs")
        rates = {engine: measure(engine, genuine, impostor, args.workers) for engine in ("nbis", "custody")}
        for engine, r in rates.items():
            print(
                f"  {engine:8} EER {r.eer:6.2%}  FNMR@FMR1% {r.fnmr_at_fmr_1:6.2%}  "
                f"FNMR@FMR0.1% {r.fnmr_at_fmr_01:6.2%}  ZeroFMR {r.zero_fmr:6.2%}"
            )
        base, ours = rates["nbis"], rates["custody"]
        print(
            f"  custody / baseline: EER {_ratio(ours.eer, base.eer)} (target ≤ 0.70)  "
            f"FNMR@FMR1% {_ratio(ours.fnmr_at_fmr_1, base.fnmr_at_fmr_1)}  "
            f"FNMR@FMR0.1% {_ratio(ours.fnmr_at_fmr_01, base.fnmr_at_fmr_01)}  "
            f"ZeroFMR {_ratio(ours.zero_fmr, base.zero_fmr)}"
        )


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}×" if base else "n/a"


if __name__ == "__main__":
    main()
