"""One fixed-length binary code per finger, for the gallery's pre-filter.

bozorth3 costs about 2 ms a comparison, so a search cannot compare a probe with every finger of a
large gallery. Each finger is therefore also summarised as one fixed-length code that FAISS can
scan in microseconds: its Minutia Cylinder-Code descriptors (:mod:`cylinders`) aggregated as a
VLAD (Jégou et al. 2010) over a small codebook — each cylinder is assigned to its few nearest
codewords and the residuals are summed per codeword — and binarised by sign. Assigning each
cylinder to several codewords leaves no block empty, so plain Hamming distance compares codes.

The codebook is learnt from synthetic fingers (:mod:`synthetic`) with a fixed seed: no real
fingerprint goes into it, and the same codebook comes out on every machine. A gallery stores the
codebook it was built with, so its codes stay comparable if this default ever changes.

Many codewords with few bits each rank mates better than few codewords with all their bits. On
FVC2004 DB1_B/DB2_B, ten fingers fused against real non-mated fingers as in a 100,000-person
gallery, 32 codewords keeping all 12,288 signs let 14 % of mates fall below 0.1 % penetration;
128 codewords keeping a fixed, seeded quarter of their 49,152 signs (the same 1,536 bytes) let
1-8 % fall (codebook seeds differ), 64 codewords 6-7 %; 2 or 8 assignments did worse than 4. One
finger's code alone stays weak (its mate is still outranked by a fifth of non-mated fingers on
average): the gallery's pre-filter relies on fusing the fingers of a ten-print. See
bench/prints_search.py and docs/fingerprints.md.
"""

from __future__ import annotations

from functools import cache

import faiss
import numpy as np
import numpy.typing as npt

from custody.identity.prints.cylinders import CELLS, DIRECTIONS, Cylinders
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template

WORDS = 128  # codewords (see the module docstring for 32 and 64)
ASSIGNED = 4  # nearest codewords each cylinder counts towards: 2 and 8 ranked mates lower
CYLINDER_SIZE = CELLS * CELLS * DIRECTIONS
RESIDUAL_BITS = WORDS * CYLINDER_SIZE
BITS = 12_288  # the residual signs kept: a quarter, as many as 32 codewords had in all
CODE_BYTES = BITS // 8
TRAINING_FINGERS = 400  # about 20,000 cylinders, 160 a codeword
SEED = 20040101
_KEPT = np.sort(np.random.default_rng(SEED).choice(RESIDUAL_BITS, BITS, replace=False))

Codes = npt.NDArray[np.uint8]
Floats32 = npt.NDArray[np.float32]


def train_codebook(*, fingers: int = TRAINING_FINGERS, seed: int = SEED) -> Floats32:
    """k-means codewords over the cylinders of synthetic fingers (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    cylinders = [Cylinders(synthetic_template(rng)) for _ in range(fingers)]
    data = np.concatenate([c.vectors[c.usable] for c in cylinders]).astype(np.float32)
    kmeans = faiss.Kmeans(CYLINDER_SIZE, WORDS, niter=25, seed=seed % (1 << 31), verbose=False)
    kmeans.train(data)
    centroids: Floats32 = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    return centroids


@cache
def default_codebook() -> Floats32:
    """The codebook of every gallery created without one, trained once a process: training takes
    seconds, and the federal side creates its gallery at the first booking whose prints it keeps."""
    codebook = train_codebook()
    codebook.flags.writeable = False  # shared by every caller in the process
    return codebook


class Encoder:
    """Turns a template into its packed binary code (``CODE_BYTES`` bytes) with one codebook."""

    def __init__(self, codebook: Floats32) -> None:
        if codebook.shape != (WORDS, CYLINDER_SIZE):
            raise ValueError(f"codebook of shape {codebook.shape}, expected {(WORDS, CYLINDER_SIZE)}")
        self.codebook = np.ascontiguousarray(codebook, dtype=np.float32)
        self._words = faiss.IndexFlatL2(CYLINDER_SIZE)
        self._words.add(self.codebook)

    def encode(self, template: Template) -> Codes:
        cylinders = Cylinders(template)
        vectors = np.ascontiguousarray(cylinders.vectors[cylinders.usable], dtype=np.float32)
        sums = np.zeros((WORDS, CYLINDER_SIZE), dtype=np.float32)
        if len(vectors):
            _, nearest = self._words.search(vectors, ASSIGNED)
            for column in nearest.T:
                np.add.at(sums, column, vectors - self.codebook[column])
        packed: Codes = np.packbits(sums.ravel()[_KEPT] > 0)
        return packed


def similarity(hamming: npt.NDArray[np.int32] | int) -> npt.NDArray[np.float64]:
    """Hamming distance as a similarity from -1 (opposite) through 0 (unrelated) to 1 (equal)."""
    result: npt.NDArray[np.float64] = 1.0 - 2.0 * np.asarray(hamming, dtype=np.float64) / BITS
    return result
