"""Verification error rates as the FVC protocol reports them, from genuine and impostor scores.

Higher scores mean more similar; a pair that could not be scored (``None``) counts as the lowest
possible score, i.e. a non-match, as FVC counts failures to enrol or compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ErrorRates:
    eer: float
    fnmr_at_fmr_1: float  # FMR100
    fnmr_at_fmr_01: float  # FMR1000
    zero_fmr: float


def _scores(values: list[float | None]) -> npt.NDArray[np.float64]:
    return np.array([-np.inf if v is None else v for v in values], dtype=np.float64)


def error_rates(genuine: list[float | None], impostor: list[float | None]) -> ErrorRates:
    if not genuine or not impostor:
        raise ValueError("error rates need genuine and impostor scores")
    g, i = _scores(genuine), _scores(impostor)
    thresholds = np.unique(np.concatenate([g, i, [np.inf]]))
    fnmr = np.array([(g < t).mean() for t in thresholds])  # accept when score >= t
    fmr = np.array([(i >= t).mean() for t in thresholds])
    return ErrorRates(
        eer=_fvc_eer(fnmr, fmr),
        fnmr_at_fmr_1=float(fnmr[fmr <= 0.01].min()),
        fnmr_at_fmr_01=float(fnmr[fmr <= 0.001].min()),
        zero_fmr=float(fnmr[fmr == 0].min()),
    )


def _fvc_eer(fnmr: npt.NDArray[np.float64], fmr: npt.NDArray[np.float64]) -> float:
    """FVC's EER (Maio et al. 2002): the middle of the interval bracketing where FNMR meets FMR.

    t1 is the last threshold with FNMR <= FMR, t2 the first with FNMR >= FMR; of the two
    brackets, the one with the smaller total error gives [EER_low, EER_high].
    """
    t1 = int(np.nonzero(fnmr <= fmr)[0].max())
    t2 = int(np.nonzero(fnmr >= fmr)[0].min())
    if fnmr[t1] + fmr[t1] <= fnmr[t2] + fmr[t2]:
        low, high = fnmr[t1], fmr[t1]
    else:
        low, high = fmr[t2], fnmr[t2]
    return float((low + high) / 2)
