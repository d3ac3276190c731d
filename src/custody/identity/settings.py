"""How the federal repository searches booked prints, from the environment (docs/fingerprints.md).

Read at each search, not at import, so that a running service and the tests see a changed setting
without a restart of the process that imported this module.

- ``CUSTODY_GALLERY``: the gallery directory of enrolled prints (default ``$CUSTODY_VAR/gallery``,
  i.e. ``var/gallery``, the same one `custody prints enroll|search` use);
- ``CUSTODY_MATCH_THRESHOLD``: the fused score at or above which a candidate is a possible hit
  (default: the gallery's, 40, bozorth3's customary threshold for one finger);
- ``CUSTODY_EXAMINER_CONFIRMATION``: ``required`` (default; an examiner confirms before a case
  opens) or ``auto`` (the best candidate is a hit at once; a candidate only because the prints on
  file contradict the booking's identifiers is rejected at once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from custody.domain.errors import InvalidInput
from custody.identity.model import ExaminerConfirmation
from custody.identity.prints.gallery import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class SearchSettings:
    gallery: Path
    threshold: float
    confirmation: ExaminerConfirmation


def gallery_path() -> Path:
    """The gallery directory: ``CUSTODY_GALLERY``, else ``gallery`` in the store's folder."""
    return Path(os.environ.get("CUSTODY_GALLERY") or Path(os.environ.get("CUSTODY_VAR", "var")) / "gallery")


def from_environment() -> SearchSettings:
    gallery = gallery_path()
    raw_threshold = os.environ.get("CUSTODY_MATCH_THRESHOLD", str(DEFAULT_THRESHOLD))
    try:
        threshold = float(raw_threshold)
    except ValueError:
        raise InvalidInput(f"CUSTODY_MATCH_THRESHOLD={raw_threshold!r} is not a number; e.g. 40") from None
    raw_confirmation = os.environ.get("CUSTODY_EXAMINER_CONFIRMATION", ExaminerConfirmation.required.value)
    try:
        confirmation = ExaminerConfirmation(raw_confirmation)
    except ValueError:
        raise InvalidInput(f"CUSTODY_EXAMINER_CONFIRMATION={raw_confirmation!r}: choose 'required' or 'auto'") from None
    return SearchSettings(gallery, threshold, confirmation)
