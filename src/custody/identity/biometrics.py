"""The federal repository's prints: an identity's fingers enrolled in the gallery, and a booking's
fingers searched against it (1:N, like finger positions, scores fused per identity).

The gallery (identity/prints/gallery.py) is a directory, not a table, so it does not share the
store's transaction: enrolment writes it after the identity's rows are flushed, and a search only
offers candidates that have an identity in the store. An identity whose transaction then failed is
left in the gallery but never offered. A file lock keeps two enrolments from writing the gallery at
once, and a search from reading it halfway through one.

Each process keeps the gallery open and catches up with what other processes saved before each
search or enrolment, reading only that (its files are only appended to): opening it reads every
finger code, 0.4-0.6 s at 20,000 identities and 1.5 GB at 100,000, which every booking's search
paid until a review of kept prints found it. Threads of one process search it together; one that
changes it (catching up, enrolling, re-sealing) waits for them and has it alone.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custody.booking.service import FingerprintImage
from custody.domain.errors import InvalidInput
from custody.identity.prints.compare import Workers
from custody.identity.prints.gallery import Gallery, GalleryError, Identity, SearchResult
from custody.identity.prints.images import UnreadableImage, decode
from custody.identity.prints.matcher import NbisMatcher, search_matcher
from custody.identity.prints.templates import Template
from custody.identity.settings import SearchSettings
from custody.store import crypto

LOCK_FILE = ".custody.lock"


@dataclass(frozen=True)
class PrintSearch:
    """What the search of a booking's prints found, the fingers it could use (which the repository
    keeps, whoever they are found to be) and those it could not, with why."""

    templates: dict[int, Template]  # one per usable finger position
    result: SearchResult | None  # None: no usable finger, or no one enrolled with prints yet
    refused: list[dict[str, Any]]


@contextmanager
def _locked(gallery: Path, mode: int) -> Iterator[None]:
    try:
        gallery.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name (found by a review: FileExistsError, exit 1)
        raise GalleryError(
            f"{gallery} cannot hold the gallery ({exc.strerror}): name a directory (--gallery, or CUSTODY_GALLERY)"
        ) from None
    with (gallery / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Turns:
    """Many readers at once, or one writer alone (the standard library has no such lock)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing and not self._readers)
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


_opened: dict[Path, Gallery] = {}  # this process's gallery, kept open (one: a deployment has one)
_turns = _Turns()


def _current(path: Path, *, create: bool = False) -> Gallery | None:
    """This process's gallery at ``path`` caught up with what others saved (None: none there yet,
    unless ``create``). Called with the file lock held and the writer's turn. A catch-up that fails
    halfway leaves nothing behind: the next one opens the directory anew (found by a review: rows
    read before the failure were read again, twice over, and the next save damaged the gallery)."""
    gallery = _opened.get(path)
    try:
        if gallery is None or not gallery.refresh():
            _opened.clear()
            if not (path / "gallery.json").exists() and not create:
                return None
            gallery = Gallery.open_or_create(path, extractor=NbisMatcher.version)
            _opened[path] = gallery
    except BaseException:
        _opened.clear()
        raise
    return gallery


@contextmanager
def changing(path: Path, *, create: bool = False) -> Iterator[Gallery | None]:
    """The process's gallery, caught up and held alone (the file lock exclusive, the writer's turn)
    while the block changes it: every enrolment, the command line's included, goes through here, so
    none saves over another's rows. A block that fails leaves it to be opened anew."""
    with _locked(path, fcntl.LOCK_EX), _turns.writing():
        gallery = _current(path, create=create)
        try:
            yield gallery
        except BaseException:
            _opened.clear()  # not saved, or saved in part: read from the directory next time
            raise


def _searchable(path: Path) -> Gallery | None:
    """The process's gallery for a search: already caught up, as most are, it is shared with the
    searches running (found by a review: every search took the writer's turn to check, so a
    process's searches ran one at a time); behind, one thread catches it up."""
    with _locked(path, fcntl.LOCK_SH):
        with _turns.reading():
            gallery = _opened.get(path)
            if gallery is not None and gallery.up_to_date():
                return gallery
        with _turns.writing():
            return _current(path)


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
    templates, unusable, _retaken = pool.templates_by_finger(readable, replaces=lambda _new, _kept: True)
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
    with changing(settings.gallery, create=True) as gallery:
        assert gallery is not None  # created when there was none
        if identity.id not in gallery:
            gallery.enrol(identity, templates)
            gallery.save()
    return sorted(templates)


def reseal(settings: SearchSettings) -> int:
    """Seal the gallery's records again under the newest data key (none when there is no gallery);
    return how many. Enrolments and searches wait for it."""
    if not (settings.gallery / "gallery.json").exists():
        return 0
    with changing(settings.gallery) as gallery:
        return 0 if gallery is None else gallery.reseal()


def census(settings: SearchSettings) -> crypto.Census:
    """The gallery's records counted by the data key that opens them (none without a gallery).
    Enrolments and re-sealing wait for it; searches go on."""
    if not (settings.gallery / "gallery.json").exists():
        return crypto.Census()
    try:
        gallery = _searchable(settings.gallery)
    except GalleryError as refused:
        if not Gallery.sealed_elsewhere(refused):
            raise
        # Sealed under a key no longer configured: every record counts as opened by none (found by
        # a review: the command failed, and the store's counts were lost with it).
        return crypto.Census(unreadable=Gallery.records_saved(settings.gallery))
    if gallery is None:
        return crypto.Census()
    with _turns.reading():
        return gallery.census()


def search(
    settings: SearchSettings, images: Sequence[FingerprintImage], include: frozenset[str] = frozenset()
) -> PrintSearch:
    """Extract the booking's fingers and search the gallery with them (no result when no finger is
    usable or no one has been enrolled with prints yet); the identities ``include`` names are
    compared whatever the pre-filter keeps (``Gallery.search``)."""
    with Workers(search_matcher) as pool:
        templates, refused = _templates(pool, images)
        if not templates or not (settings.gallery / "gallery.json").exists():
            return PrintSearch(templates, None, refused)
        result = _searched(settings, templates, pool, include)
    return PrintSearch(templates, result, refused)


def _searched(
    settings: SearchSettings, templates: dict[int, Template], pool: Workers, include: frozenset[str]
) -> SearchResult | None:
    """Search the process's gallery; None when no one is enrolled with prints yet.

    Saved rows never change, so searching needs only this process's writers kept out (a gallery
    opened anew since is another object, which this search no longer shares). The threshold decides
    here; whether a hit waits for an examiner is the identification's state machine
    (identity/model.py), not the gallery's. A directory replaced while the search read it (a gallery
    restored from a backup) was read at the offsets of the one before, which failed as a wrong
    data key or named someone else: found by a review, the search now runs again on the new one.
    """
    for attempt in range(1, 3):
        gallery = _searchable(settings.gallery)
        if gallery is None and attempt == 2:
            # Gone while the first attempt read it (a restore begun): not "no one enrolled", which
            # would keep the person's prints as a new identity (found by a review).
            raise GalleryError(f"{settings.gallery}: the gallery was replaced during the search; search again")
        if gallery is None:
            return None
        try:
            with _turns.reading():
                result = gallery.search(
                    templates, pool.compare_records, threshold=settings.threshold, confirmation=True, include=include
                )
        except GalleryError:
            if gallery.replaced_since_opened() and attempt == 1:
                continue
            raise
        if not gallery.replaced_since_opened():
            return result
    raise GalleryError(f"{settings.gallery}: the gallery directory was replaced twice during one search; search again")
