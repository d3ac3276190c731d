"""The federal repository's prints: an identity's fingers enrolled in the gallery, and a booking's
fingers searched against it (1:N, like finger positions, scores fused per identity).

The gallery (identity/prints/gallery.py) is a directory, not a table, so it does not share the
store's transaction: enrolment writes it after the identity's rows are flushed, and a search only
offers candidates that have an identity in the store. An identity whose transaction then failed is
left in the gallery but never offered. A file lock keeps two enrolments from writing the gallery at
once, and a search from reading it halfway through one.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custody.booking.service import FingerprintImage
from custody.domain.errors import InvalidInput
from custody.identity.prints.compare import Workers
from custody.identity.prints.gallery import Gallery, Identity, SearchResult
from custody.identity.prints.images import UnreadableImage, decode
from custody.identity.prints.matcher import NbisMatcher, search_matcher
from custody.identity.prints.templates import Template
from custody.identity.settings import SearchSettings

LOCK_FILE = ".custody.lock"


@dataclass(frozen=True)
class PrintSearch:
    """What the search of a booking's prints found, the fingers it could use (kept by the repository
    when they found no one) and those it could not, with why."""

    templates: dict[int, Template]  # one per usable finger position
    result: SearchResult | None  # None: no usable finger, or no one enrolled with prints yet
    refused: list[dict[str, Any]]


@contextmanager
def _locked(gallery: Path, mode: int) -> Iterator[None]:
    gallery.mkdir(parents=True, exist_ok=True)
    with (gallery / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _templates(pool: Workers, images: Sequence[FingerprintImage]) -> tuple[dict[int, Template], list[dict[str, Any]]]:
    """One template per finger position (its last usable image: a print retaken after the booking
    replaces the one before); every refusal with its reason."""
    refused: list[dict[str, Any]] = []
    readable = []
    for image in images:
        try:
            readable.append((image.position, decode(image.data, name=image.filename), image.filename))
        except UnreadableImage as exc:
            refused.append({"position": image.position, "reason": str(exc)})
    templates, unusable = pool.templates_by_finger(readable, replaces=lambda _new, _kept: True)
    return templates, refused + [{"position": position, "reason": reason} for position, _name, reason in unusable]


def usable(images: Sequence[FingerprintImage]) -> tuple[dict[int, Template], list[dict[str, Any]]]:
    """The images' templates, one per finger position, and every image refused with its reason."""
    with Workers(NbisMatcher) as pool:
        return _templates(pool, images)


def enrol(settings: SearchSettings, identity: Identity, images: Sequence[FingerprintImage]) -> list[int]:
    """Enrol the identity's fingers; refuse it when no image yields a usable template."""
    templates, refused = usable(images)
    if not templates:
        reasons = "; ".join(f"finger {r['position']}: {r['reason']}" for r in refused)
        raise InvalidInput(f"no usable fingerprint to enrol ({reasons}); take the prints again")
    return enrol_templates(settings, identity, templates)


def enrol_templates(settings: SearchSettings, identity: Identity, templates: dict[int, Template]) -> list[int]:
    """Enrol fingers already extracted (a booking's search extracted them), creating the gallery at
    the first enrolment. An identity the gallery already holds is left as it is: the gallery is
    written outside the store's transaction, so a transaction retried after a failure finds its
    own earlier enrolment there."""
    with _locked(settings.gallery, fcntl.LOCK_EX):
        gallery = Gallery.open_or_create(settings.gallery, extractor=NbisMatcher.version)
        if identity.id not in gallery:
            gallery.enrol(identity, templates)
            gallery.save()
    return sorted(templates)


def search(settings: SearchSettings, images: Sequence[FingerprintImage]) -> PrintSearch:
    """Extract the booking's fingers and search the gallery with them (no result when no finger is
    usable or no one has been enrolled with prints yet)."""
    with Workers(search_matcher) as pool:
        templates, refused = _templates(pool, images)
        if not templates or not (settings.gallery / "gallery.json").exists():
            return PrintSearch(templates, None, refused)
        with _locked(settings.gallery, fcntl.LOCK_SH):
            gallery = Gallery.open(settings.gallery)
        # the threshold decides here; whether a hit waits for an examiner is the identification's
        # state machine (identity/model.py), not the gallery's
        result = gallery.search(templates, pool.compare_records, threshold=settings.threshold, confirmation=True)
    return PrintSearch(templates, result, refused)
