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

Measured on FVC2004 DB1_B/DB2_B, the codes alone separate mates from non-mates far worse than
bozorth3 (EER about 29 % and 25 %) but rank a finger's best mate near the top: that is all a
shortlist needs. See bench/prints_search.py.
"""

from __future__ import annotations

import faiss
import numpy as np
import numpy.typing as npt

from custody.identity.prints.cylinders import CELLS, DIRECTIONS, Cylinders
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template

WORDS = 32  # codewords: 16 ranked mates lower on FVC2004, 64 was no better
ASSIGNED = 4  # nearest codewords each cylinder counts towards
CYLINDER_SIZE = CELLS * CELLS * DIRECTIONS
BITS = WORDS * CYLINDER_SIZE
CODE_BYTES = BITS // 8
TRAINING_FINGERS = 200  # about 10,000 cylinders, 300 a codeword
SEED = 20040101

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
        packed: Codes = np.packbits(sums.ravel() > 0)
        return packed


def similarity(hamming: npt.NDArray[np.int32] | int) -> npt.NDArray[np.float64]:
    """Hamming distance as a similarity from -1 (opposite) through 0 (unrelated) to 1 (equal)."""
    result: npt.NDArray[np.float64] = 1.0 - 2.0 * np.asarray(hamming, dtype=np.float64) / BITS
    return result
