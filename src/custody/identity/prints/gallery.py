"""The federal repository's side of identification: enrolled identities and 1:N search.

An identity is a person as the repository knows them: names and aliases, the record the
repository holds, and one ISO/IEC 19794-2 template per finger position. Search compares a booking's
prints with like finger positions only, fuses the per-finger bozorth3 scores into one score per
identity and ranks the candidates.

Comparing with every identity costs a bozorth3 run per finger per identity (0.3-5 ms each), so
search first shortlists: every finger also has a fixed-length binary code (:mod:`descriptors`)
in a FAISS index per finger position, and only the ``shortlist`` identities whose codes are
nearest the probe's are compared with bozorth3. ``shortlist=None`` compares exhaustively (the
baseline the benchmark measures against).

The pre-filter fuses the fingers of the probe, as ten-print systems do: one finger's code ranks
its mate poorly (FVC2004: on average above a fifth of non-mated fingers), but ten fingers that
are each somewhat nearer than chance add up. Each probe finger is compared with every code of its
position (a FAISS scan, about 0.4 ms per thousand codes, so every score is exact and no finger
is crowded out of a nearest-neighbour list), its similarities are standardised against that
position's own distribution (a smudged probe finger, near to everything, then weighs no more than
a clear one), and the standard scores are summed per identity. An identity with no enrolled
finger at any probe position is never shortlisted. Fewer fingers add up to less: a probe missing
fingers keeps a larger share of the gallery (``PENETRATION``), and one of three fingers or fewer
(a booking where most captures were refused) is compared with every identity.

Fusion: each finger contributes its bozorth3 score above ``FLOOR`` (where nearly all non-mated
scores of NBIS lie), and the contributions are summed. A single strong finger decides as bozorth3's
usual threshold would; several moderate fingers add up, which a maximum would ignore; the many
weak non-mated scores of a ten-print comparison do not add up to a false hit, which a plain sum
would let them do.

A candidate at or above the decision threshold is *pending confirmation* until an examiner
confirms it (the case opens only then), unless the repository is configured to accept hits
without confirmation, in which case it is a *hit* at once.

The directory is only ever appended to, so a save costs what it adds, a process that holds the
gallery open catches up by reading only what others saved since (:meth:`Gallery.refresh`), and a
crash loses nothing already saved: every file grows at its end; ``gallery.json`` is written last,
atomically, and says how many rows and bytes of each file are valid (bytes past them, left by a
process that died before its manifest, are cut off at the next save). Format 3 rewrote the FAISS
indexes and row maps at every save: 0.75 s an enrolment at 20,000 identities, growing with the
gallery; it is upgraded in place when opened.

Templates and identity documents are biometric and personal data, sealed at rest under the data
key the store's images are sealed with (``custody.store.crypto``: Fernet, a key from
``CUSTODY_DATA_KEY`` or its file; issue 9). Each is sealed alone, so a search still reads only the
records it compares. The finger codes hold 128-bit codes of quantised minutia descriptors, from
which no template can be rebuilt, and are read whole at opening: sealed, a 10,000-identity gallery
opened in 1.6 s instead of 0.03 s (a code review), so they stay plain, like the offsets, row maps,
codebook and manifest.

    gallery.json                 format, extractor, the valid rows and bytes of every file
    codebook.npy                 the descriptor codebook the codes were made with
    ids.txt                      identity ids, one a line, in row order
    identities.jsonl (+ .idx)    one sealed JSON document per line (.idx: int64 byte offsets)
    templates.bin (+ .idx)       sealed ISO records (.idx: int64 rows identity, position, offset, length)
    codes-NN.bin (+ .rows)       finger position NN's binary codes, CODE_BYTES each (.rows: int64
                                 identity row of each), loaded into a FAISS flat index at opening
"""

from __future__ import annotations

import enum
import fcntl
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from cryptography.fernet import InvalidToken

from custody.identity.prints.descriptors import BITS, CODE_BYTES, Codes, Encoder, default_codebook, similarity
from custody.identity.prints.templates import Template, decode_iso, encode_iso
from custody.store import crypto

FORMAT = 4  # 2: 128-codeword descriptors (format 1 codes cannot be compared with them); 3: sealed at rest;
# 4: every file appended, none rewritten (format 3 is upgraded in place at opening)
FLOOR = 20.0  # bozorth3 score below which a finger adds nothing (non-mated NBIS scores rarely exceed it)
DEFAULT_THRESHOLD = 40.0  # NIST's customary bozorth3 threshold, for the fused score of one finger
DEFAULT_SHORTLIST = 300  # identities a ten-print search re-ranks with bozorth3 after the pre-filter
# The share of the gallery the pre-filter keeps for a probe of so many fingers: the smallest share
# that lost at most 1 % of mates in bench/prints_search.py's searches with that many fingers
# (FVC2004 fingers against real non-mated ones, 600 searches each at 10,002 identities, 400 at
# 100,002; six fingers lost 1.2 % at 5 % there, 0.2 % at 10 %). Ten fingers lost 1.0 % (2 of 200)
# at 0.2 % of 100,002 and none at 0.3 %, the ``shortlist`` of 300 there: kept, for the margin, at
# 1.0 s a search against 0.9 s at 200. With three fingers or fewer even 30 % lost 2-17 % of mates, so
# such a probe is compared with every identity: slower, nothing lost to the pre-filter.
PENETRATION = {10: 0.003, 9: 0.01, 8: 0.02, 7: 0.05, 6: 0.1, 5: 0.2, 4: 0.3}
POSITIONS = range(0, 16)  # ANSI/NIST finger positions 0 (unknown) to 15; a search compares 1-10 (ansi_nist.FINGERS)
UPGRADE_LOCK = ".upgrade.lock"  # one process upgrades a format 3 gallery at a time

# Scores (probe template, stored ISO/IEC 19794-2 record) pairs, e.g. ``NbisMatcher.compare_records``
# in this process or ``Workers.compare_records`` over a pool: a search hands its shortlist's records
# over as stored, and only the comparing process reads them.
Compare = Callable[[list[tuple[Template, bytes]]], list[float]]


class GalleryError(ValueError):
    """A gallery that cannot be opened or changed; the message says what to do."""


class Decision(enum.StrEnum):
    NO_HIT = "no hit"
    PENDING_CONFIRMATION = "pending confirmation"
    HIT = "hit"


@dataclass(frozen=True)
class Identity:
    """A person as enrolled: id, names (the first is the primary), aliases, record, fingers."""

    id: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    record: dict[str, Any] = field(default_factory=dict)
    fingers: tuple[int, ...] = ()

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "names": list(self.names),
            "aliases": list(self.aliases),
            "record": self.record,
            "fingers": list(self.fingers),
        }


@dataclass(frozen=True)
class Candidate:
    identity: Identity
    score: float  # fused over like finger positions
    fingers: dict[int, float]  # bozorth3 score per finger position compared
    status: Decision

    def document(self) -> dict[str, Any]:
        return {
            **self.identity.document(),
            "score": round(self.score, 3),
            "finger_scores": {str(p): s for p, s in sorted(self.fingers.items())},
            "status": str(self.status),
        }


@dataclass(frozen=True)
class SearchResult:
    decision: Decision
    candidates: tuple[Candidate, ...]
    compared: int  # identities compared with bozorth3
    gallery_size: int
    # bozorth3 score per like finger position of each identity the search was asked to include
    # (none: no finger at a probe position), ranked or not
    included: dict[str, dict[int, float]] = field(default_factory=dict)

    @property
    def penetration(self) -> float:
        """Share of the gallery compared with bozorth3 (1.0 for an exhaustive search)."""
        return self.compared / self.gallery_size if self.gallery_size else 0.0

    def document(self) -> dict[str, Any]:
        return {
            "decision": str(self.decision),
            "candidates": [c.document() for c in self.candidates],
            "compared": self.compared,
            "gallery_size": self.gallery_size,
            "penetration": round(self.penetration, 6),
        }


def fuse(scores: Iterable[float]) -> float:
    """One identity's score from its per-finger bozorth3 scores (see the module docstring)."""
    return float(sum(max(0.0, s - FLOOR) for s in scores))


@dataclass
class _Index:
    index: Any  # faiss.IndexBinaryFlat
    rows: list[int]  # FAISS id -> identity row
    _rows: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def row_array(self) -> npt.NDArray[np.int64]:
        if len(self._rows) != len(self.rows):
            self._rows = np.asarray(self.rows, dtype=np.int64)
        return self._rows

    def standard_scores(self, code: Codes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Every enrolled finger's similarity to ``code`` as a standard score: (FAISS ids, scores)."""
        # a radius above the code length returns every distance, unsorted, in one scan
        limits, distances, ids = self.index.range_search(code.reshape(1, -1), BITS + 1)
        sims = similarity(distances[limits[0] : limits[1]])
        spread = float(sims.std())
        return ids[limits[0] : limits[1]], (sims - sims.mean()) / (spread if spread > 0 else 1.0)


# What a gallery with nothing saved yet has saved: the manifest's counts start from here.
_NOTHING: dict[str, Any] = {
    "identities": 0,
    "identities_bytes": 0,
    "ids_bytes": 0,
    "templates": 0,
    "templates_bytes": 0,
    "codes": {},
}


class Gallery:
    """An enrolled repository in a directory; open with :meth:`open`, create with :meth:`create`."""

    def __init__(self, path: Path, encoder: Encoder, extractor: str) -> None:
        self.path = path
        self.encoder = encoder
        self.extractor = extractor
        self._doc_offsets: list[int] = []
        self._ids: dict[str, int] = {}
        self._template_rows: list[tuple[int, int, int, int]] = []  # identity row, position, offset, length
        self._by_identity: dict[int, list[int]] = {}
        self._indexes: dict[int, _Index] = {}
        self._docs_size = 0
        self._templates_size = 0
        self._ids_size = 0
        self._pending_docs: list[bytes] = []
        self._pending_templates: list[bytes] = []
        self._pending_codes: dict[int, list[bytes]] = {}
        self._saved: dict[str, Any] = _NOTHING  # the manifest as last saved or read
        self._made = _made(path)
        self._seal = crypto.fernet()

    # -- opening and saving -------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, *, extractor: str, codebook: npt.NDArray[np.float32] | None = None) -> Gallery:
        if (path / "gallery.json").exists():
            raise GalleryError(f"{path}: a gallery already exists here; open it instead")
        path.mkdir(parents=True, exist_ok=True)
        encoder = Encoder(default_codebook() if codebook is None else codebook)
        np.save(path / "codebook.npy", encoder.codebook)
        for name in ("ids.txt", "identities.jsonl", "identities.idx", "templates.bin", "templates.idx"):
            (path / name).touch()  # read before anything is appended to them (a search of unsaved enrolments)
        gallery = cls(path, encoder, extractor)
        gallery.save()
        return gallery

    @classmethod
    def open(cls, path: Path) -> Gallery:
        manifest = _manifest(path)
        if manifest.get("format") == 3:
            manifest = _upgrade_from_3(path, manifest)
        if manifest.get("format") != FORMAT:
            raise GalleryError(
                f"{path}: gallery format {manifest.get('format')!r}, this release reads {FORMAT}; "
                "enrol the identities again into a new gallery directory"
            )
        gallery = cls(path, Encoder(np.load(path / "codebook.npy")), manifest["extractor"])
        gallery._load(manifest)
        if gallery._ids:
            gallery.identity(0)  # the data key is checked on opening, not at the first candidate
        return gallery

    @classmethod
    def open_or_create(cls, path: Path, *, extractor: str) -> Gallery:
        return cls.open(path) if (path / "gallery.json").exists() else cls.create(path, extractor=extractor)

    def refresh(self) -> bool:
        """Catch up with what was saved to the directory since this gallery was opened or saved (by
        any process), reading only that. False when the directory holds another gallery now
        (created anew, or with fewer rows than this one read), or the data key setting changed
        (a key put first to rotate): open it again instead."""
        if self._pending_docs:
            raise GalleryError(f"{self.path}: enrolments not saved yet; save them before refreshing")
        manifest = self._same_gallery()
        if manifest is None or any(manifest[k] < self._saved[k] for k in _COUNTS):
            return False
        self._load(manifest)
        return True

    def up_to_date(self) -> bool:
        """Whether this gallery holds everything saved to its directory, under the keys set now (a
        manifest read: no row is)."""
        manifest = self._same_gallery()
        return manifest is not None and not self._pending_docs and manifest == self._saved

    def replaced_since_opened(self) -> bool:
        """Whether the directory holds another gallery than the one this object read (made anew,
        restored from a backup): rows read from it since may belong to that one."""
        return _made(self.path) != self._made

    def _same_gallery(self) -> dict[str, Any] | None:
        """The directory's manifest, or None when it holds another gallery than this one read (made
        anew, of another format) or the data key setting changed (a key put first to rotate)."""
        if self.replaced_since_opened() or self._seal is not crypto.fernet():
            return None
        manifest = _manifest(self.path)
        return manifest if manifest.get("format") == FORMAT else None

    def _load(self, manifest: dict[str, Any]) -> None:
        """Read the rows ``manifest`` counts beyond those already read (all of them when opening):
        every file first, then nothing but memory changes, so a read that fails changes nothing."""
        saved, path = self._saved, self.path
        # The sealed records are read only for a search's candidates: a file cut short would be
        # refused then, as if under another data key (found by a review).
        for name, size in (("identities.jsonl", "identities_bytes"), ("templates.bin", "templates_bytes")):
            if (path / name).stat().st_size < manifest[size]:
                raise _cut_short(path / name)
        ids = _lines(_tail(path / "ids.txt", saved["ids_bytes"], manifest["ids_bytes"]))
        offsets = _rows(path / "identities.idx", saved["identities"], manifest["identities"], 1)
        rows = _rows(path / "templates.idx", saved["templates"], manifest["templates"], 4)
        if not len(ids) == len(offsets) == manifest["identities"] - saved["identities"]:
            raise GalleryError(f"{path}: ids.txt and identities.idx disagree with gallery.json; the gallery is damaged")
        codes = {
            int(key): (
                _rows(path / f"codes-{key}.bin", saved["codes"].get(key, 0), count, CODE_BYTES, np.uint8),
                _rows(path / f"codes-{key}.rows", saved["codes"].get(key, 0), count, 1),
            )
            for key, count in manifest["codes"].items()
        }
        self._ids.update(zip(ids, range(len(self._ids), len(self._ids) + len(ids)), strict=True))
        self._doc_offsets.extend(offsets.tolist())
        for identity_row, position, offset, length in rows.tolist():
            self._by_identity.setdefault(identity_row, []).append(len(self._template_rows))
            self._template_rows.append((identity_row, position, offset, length))
        for position, (added, owners) in codes.items():
            entry = self._indexes.setdefault(position, _Index(faiss.IndexBinaryFlat(BITS), []))
            if len(added):
                entry.index.add(np.ascontiguousarray(added))
                entry.rows.extend(owners.tolist())
        self._docs_size, self._templates_size = manifest["identities_bytes"], manifest["templates_bytes"]
        self._ids_size = manifest["ids_bytes"]
        self._saved = manifest

    def save(self) -> None:
        """Append what was enrolled since the last save to every file, then write the manifest
        (last, atomically): bytes past a file's saved size, left by a process that died before its
        manifest, are cut off first."""
        saved, path = self._saved, self.path
        new_ids = list(self._ids)[saved["identities"] :]
        _append(path / "ids.txt", saved["ids_bytes"], [f"{i}\n".encode() for i in new_ids])
        _append(path / "identities.jsonl", saved["identities_bytes"], self._pending_docs)
        _append(path / "templates.bin", saved["templates_bytes"], self._pending_templates)
        _append_rows(path / "identities.idx", saved["identities"], self._doc_offsets[saved["identities"] :])
        _append_rows(path / "templates.idx", saved["templates"], self._template_rows[saved["templates"] :])
        codes: dict[str, int] = {}
        for position, entry in sorted(self._indexes.items()):
            key, before = f"{position:02d}", saved["codes"].get(f"{position:02d}", 0)
            _append(path / f"codes-{key}.bin", before * CODE_BYTES, self._pending_codes.get(position, []))
            _append_rows(path / f"codes-{key}.rows", before, entry.rows[before:])
            codes[key] = len(entry.rows)
        manifest = {
            "format": FORMAT,
            "extractor": self.extractor,
            "identities": len(self._doc_offsets),
            "identities_bytes": self._docs_size,
            "ids_bytes": self._ids_size,
            "templates": len(self._template_rows),
            "templates_bytes": self._templates_size,
            "codes": codes,
            "descriptor_bits": BITS,
        }
        _write_manifest(path, manifest)
        self._pending_docs.clear()
        self._pending_templates.clear()
        self._pending_codes.clear()
        self._saved = manifest

    def reseal(self) -> int:
        """Seal every saved identity document and template again under the newest data key
        (``custody.store.crypto``, "Rotation"); return how many records. A Fernet token's length
        follows its plaintext's, so every offset stays as it is: each file is written anew beside
        the old, then renamed over it, and a process holding the gallery open reads on unchanged."""
        count = 0
        for name, records in self._sealed_records("re-sealing"):
            tmp = self.path / f"{name}.{os.getpid()}.tmp"
            with tmp.open("wb") as new:
                for token, end in records:
                    again = self._sealed_again(token)
                    if len(again) != len(token):
                        raise GalleryError(f"{self.path}/{name}: a record changed length when sealed again")
                    new.write(again + end)
                new.flush()
                os.fsync(new.fileno())
            os.replace(tmp, self.path / name)
            count += len(records)
        return count

    def census(self) -> crypto.Census:
        """Every saved record counted by the data key that opens it (``custody keys check``)."""
        tally = crypto.Census()
        for _name, records in self._sealed_records("checking the keys"):
            for token, _end in records:
                tally.add(token)
        return tally

    def _sealed_records(self, doing: str) -> Iterator[tuple[str, list[tuple[bytes, bytes]]]]:
        """Each file of sealed records, with its records as saved: (token, the line end after it)."""
        if self._pending_docs:
            raise GalleryError(f"{self.path}: enrolments not saved yet; save them before {doing}")
        for name, spans in (
            ("identities.jsonl", self._doc_spans()),
            ("templates.bin", [(offset, length) for _r, _p, offset, length in self._template_rows]),
        ):
            with (self.path / name).open("rb") as old:
                sealed = old.read(sum(length for _offset, length in spans))
            records = []
            for offset, length in spans:
                token = sealed[offset : offset + length]
                records.append((token.removesuffix(b"\n"), b"\n" if token.endswith(b"\n") else b""))
            yield name, records

    def _doc_spans(self) -> list[tuple[int, int]]:
        """(offset, length) of each saved identity document, its line end included."""
        if not self._doc_offsets:
            return []  # a gallery created with no one in it yet (found by a review: re-sealing it failed)
        ends = [*self._doc_offsets[1:], self._saved["identities_bytes"]]
        return [(start, end - start) for start, end in zip(self._doc_offsets, ends, strict=True)]

    # -- enrolment -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._doc_offsets)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self._ids

    def enrol(
        self, identity: Identity, templates: dict[int, Template], *, codes: dict[int, Codes] | None = None
    ) -> None:
        """Add one identity with a template per finger position (call :meth:`save` to keep it).

        ``codes`` lets a caller that already computed the fingers' codes (the benchmark) pass them.
        """
        if identity.id in self._ids:
            raise GalleryError(f"identity {identity.id} is already enrolled")
        if not identity.id or "\n" in identity.id:
            raise GalleryError(f"identity {identity.id!r}: an id is one line of text")
        if not templates:
            raise GalleryError(f"identity {identity.id}: no usable finger to enrol")
        for position in templates:
            if position not in POSITIONS:
                raise GalleryError(f"identity {identity.id}: finger position {position} is not 0-15")
        row = len(self._doc_offsets)
        enrolled = Identity(identity.id, identity.names, identity.aliases, identity.record, tuple(sorted(templates)))
        line = self._seal.encrypt(json.dumps(enrolled.document(), ensure_ascii=False).encode()) + b"\n"
        self._doc_offsets.append(self._docs_size)
        self._docs_size += len(line)
        self._pending_docs.append(line)
        self._ids[identity.id] = row
        self._ids_size += len(identity.id.encode()) + 1
        for position, template in sorted(templates.items()):
            record = self._seal.encrypt(encode_iso(_at(template, position)))
            self._by_identity.setdefault(row, []).append(len(self._template_rows))
            self._template_rows.append((row, position, self._templates_size, len(record)))
            self._templates_size += len(record)
            self._pending_templates.append(record)
            code = codes[position] if codes is not None else self.encoder.encode(template)
            entry = self._indexes.setdefault(position, _Index(faiss.IndexBinaryFlat(BITS), []))
            entry.index.add(code.reshape(1, -1))
            entry.rows.append(row)
            self._pending_codes.setdefault(position, []).append(np.ascontiguousarray(code, dtype=np.uint8).tobytes())

    # -- reading -------------------------------------------------------------------------------

    def identity(self, row: int) -> Identity:
        saved = len(self._doc_offsets) - len(self._pending_docs)
        if row >= saved:  # enrolled in this process, not yet saved
            line = self._pending_docs[row - saved]
        else:
            with (self.path / "identities.jsonl").open("rb") as docs:
                docs.seek(self._doc_offsets[row])
                line = docs.readline()
        doc = json.loads(self._open(line.rstrip(b"\n")))
        return Identity(doc["id"], tuple(doc["names"]), tuple(doc["aliases"]), doc["record"], tuple(doc["fingers"]))

    def templates(self, row: int, positions: Iterable[int] | None = None) -> dict[int, Template]:
        """The identity's templates by finger position (only ``positions`` when given)."""
        wanted = None if positions is None else set(positions)
        return {
            position: decode_iso(record, extractor=self.extractor)
            for (_row, position), record in self._read_records([row], wanted)
        }

    def _read_records(self, rows: Iterable[int], wanted: set[int] | None) -> Iterable[tuple[tuple[int, int], bytes]]:
        """((row, position), ISO record) for the rows' fingers at ``wanted`` positions, the file opened once."""
        unsaved_from = self._saved["templates_bytes"]
        unsaved = b"".join(self._pending_templates)
        with (self.path / "templates.bin").open("rb") as blob:
            for row in rows:
                for i in self._by_identity.get(row, []):
                    _, position, offset, length = self._template_rows[i]
                    if wanted is not None and position not in wanted:
                        continue
                    if offset >= unsaved_from:
                        data = unsaved[offset - unsaved_from : offset - unsaved_from + length]
                    else:
                        blob.seek(offset)
                        data = blob.read(length)
                    yield (row, position), self._open(data)

    # -- search --------------------------------------------------------------------------------

    def shortlist_size(self, fingers: int, shortlist: int) -> int | None:
        """How many identities a probe of ``fingers`` fingers keeps after the pre-filter (None: all).

        ``shortlist`` is a ten-print search's; fewer fingers fuse a weaker signal and keep a larger
        share of the gallery (``PENETRATION``), never fewer than ``shortlist``.
        """
        share = PENETRATION.get(min(fingers, max(PENETRATION)))
        kept = None if share is None else max(shortlist, math.ceil(share * len(self)))
        return None if kept is None or kept >= len(self) else kept

    def shortlist(self, codes: dict[int, Codes], size: int) -> list[int]:
        """Identity rows whose fingers' codes are nearest the probe's, best first (the pre-filter).

        See the module docstring: standard scores summed over the probe's finger positions.
        """
        fused = np.zeros(len(self), dtype=np.float64)
        covered = np.zeros(len(self), dtype=np.int64)
        for position, code in codes.items():
            entry = self._indexes.get(position)
            if entry is None or entry.index.ntotal == 0:
                continue
            ids, scores = entry.standard_scores(code)
            owners = entry.row_array()[ids]
            fused += np.bincount(owners, weights=scores, minlength=len(self))
            covered += np.bincount(owners, minlength=len(self))
        candidates = np.flatnonzero(covered)
        if size < len(candidates):
            candidates = candidates[np.argpartition(-fused[candidates], size)[:size]]
        best_first = candidates[np.argsort(-fused[candidates], kind="stable")]
        return [int(r) for r in best_first]

    def search(
        self,
        probe: dict[int, Template],
        compare: Compare,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        confirmation: bool = True,
        shortlist: int | None = DEFAULT_SHORTLIST,
        top: int = 10,
        exclude: frozenset[str] = frozenset(),
        include: frozenset[str] = frozenset(),
    ) -> SearchResult:
        """Rank the identities most like ``probe`` (finger position -> template).

        ``compare`` scores (probe template, stored record) pairs with bozorth3 (in-process or over
        a pool of processes); ``exclude`` leaves identities out (the benchmark's non-mated searches);
        ``include`` compares identities whatever the pre-filter keeps, their scores in ``included``
        (those a booking's identifiers name: do the prints on file match?).
        """
        size = None if shortlist is None else self.shortlist_size(len(probe), shortlist)
        if size is None:
            rows = [r for r in range(len(self)) if set(self._positions(r)) & set(probe)]
        else:
            rows = self.shortlist({p: self.encoder.encode(t) for p, t in probe.items()}, size + len(exclude))
        excluded = {self._ids[i] for i in exclude if i in self._ids}
        rows = [r for r in rows if r not in excluded][: len(rows) if size is None else size]
        asked = {i: self._ids[i] for i in sorted(include) if i in self._ids}
        shortlisted = set(rows)
        rows += [r for r in asked.values() if r not in shortlisted and set(self._positions(r)) & set(probe)]
        pairs: list[tuple[Template, bytes]] = []
        owners: list[tuple[int, int]] = []
        for (row, position), record in self._read_records(rows, set(probe)):
            pairs.append((probe[position], record))
            owners.append((row, position))
        per_finger: dict[int, dict[int, float]] = {}
        for (row, position), score in zip(owners, compare(pairs), strict=True):
            per_finger.setdefault(row, {})[position] = score
        ranked = sorted(per_finger.items(), key=lambda item: -fuse(item[1].values()))[:top]
        accepted = Decision.PENDING_CONFIRMATION if confirmation else Decision.HIT
        candidates = tuple(
            Candidate(
                self.identity(row),
                fuse(scores.values()),
                scores,
                accepted if fuse(scores.values()) >= threshold else Decision.NO_HIT,
            )
            for row, scores in ranked
        )
        decision = candidates[0].status if candidates else Decision.NO_HIT
        included = {i: per_finger.get(row, {}) for i, row in asked.items()}
        return SearchResult(decision, candidates, len(rows), len(self) - len(excluded), included)

    def _open(self, sealed: bytes) -> bytes:
        return self._keyed(self._seal.decrypt, sealed)

    def _sealed_again(self, sealed: bytes) -> bytes:
        return self._keyed(self._seal.rotate, sealed)

    def _keyed(self, use: Callable[[bytes], bytes], sealed: bytes) -> bytes:
        try:
            return use(sealed)
        except InvalidToken:
            raise GalleryError(
                f"{self.path}: {_NOT_THIS_KEY} (CUSTODY_DATA_KEY or CUSTODY_DATA_KEY_FILE): use the key it was "
                f"sealed with; if that is the key, {_DAMAGED}"
            ) from None

    @staticmethod
    def sealed_elsewhere(refused: GalleryError) -> bool:
        """Whether the gallery was refused for its data key (not damaged, not missing)."""
        return _NOT_THIS_KEY in str(refused)

    @staticmethod
    def records_saved(path: Path) -> int:
        """How many sealed records (identity documents and templates) the gallery's manifest counts."""
        manifest = _manifest(path)
        return int(manifest.get("identities", 0)) + int(manifest.get("templates", 0))

    def _positions(self, row: int) -> list[int]:
        return [self._template_rows[i][1] for i in self._by_identity.get(row, [])]


_COUNTS = ("identities", "identities_bytes", "ids_bytes", "templates", "templates_bytes")
_NOT_THIS_KEY = "the gallery cannot be opened with the data key configured"
_DAMAGED = "the gallery is damaged: restore its directory from a backup"


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((path / "gallery.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GalleryError(f"{path}: no gallery here (enrol an identity to create one)") from None
    except (OSError, ValueError) as exc:
        raise GalleryError(f"{path}/gallery.json cannot be read ({exc})") from None
    return manifest


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    _replace(path / "gallery.json", json.dumps(manifest).encode())


def _replace(target: Path, data: bytes) -> None:
    """Write a file whole under a name of its own, on disk before it is renamed into place."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)


def _lines(data: bytes) -> list[str]:
    """The ids of ``ids.txt``, split at line feeds only (``str.splitlines`` also splits at the
    separators Unicode has, which an id may hold: found by a review)."""
    return data.decode().split("\n")[:-1] if data else []


def _made(path: Path) -> tuple[int, int] | None:
    """Which gallery the directory holds: its codebook file, written once when it was created."""
    try:
        made = (path / "codebook.npy").stat()
    except FileNotFoundError:
        return None
    return made.st_ino, made.st_mtime_ns


def _tail(path: Path, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of a file the manifest counts them in."""
    if end <= start:
        return b""
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    if len(data) != end - start:
        raise _cut_short(path)
    return data


def _cut_short(path: Path) -> GalleryError:
    return GalleryError(f"{path} is shorter than gallery.json says; {_DAMAGED}")


def _rows(path: Path, start: int, end: int, width: int, dtype: type = np.int64) -> npt.NDArray[Any]:
    """Rows ``start`` to ``end`` of a flat file of ``width`` values each."""
    size = np.dtype(dtype).itemsize * width
    rows: npt.NDArray[Any] = np.frombuffer(_tail(path, start * size, end * size), dtype=dtype).reshape(-1, width)
    return rows[:, 0] if width == 1 else rows


def _append(path: Path, valid: int, chunks: list[bytes]) -> None:
    """Cut the file back to its ``valid`` bytes and append ``chunks`` (nothing to do without any)."""
    if not chunks:
        return
    with path.open("ab") as handle:
        handle.truncate(valid)
        handle.write(b"".join(chunks))
        handle.flush()
        os.fsync(handle.fileno())


def _append_rows(path: Path, valid_rows: int, rows: list[Any]) -> None:
    if rows:
        data = np.asarray(rows, dtype=np.int64)
        _append(path, valid_rows * data[0:1].nbytes, [data.tobytes()])


def _at(template: Template, position: int) -> Template:
    return Template(
        template.width,
        template.height,
        template.minutiae,
        ppi=template.ppi,
        position=position,
        quality=template.quality,
        impression=template.impression,
        extractor=template.extractor,
    )


def _upgrade_from_3(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write a format 3 gallery's row maps and FAISS indexes as format 4's appended files, then its
    manifest (last), each file on disk before it is renamed into place. One process upgrades at a
    time, and one that finds the gallery upgraded when its turn comes writes nothing (found by a
    review: a second upgrade, begun before the first ended, wrote the old rows back over an
    enrolment saved in between). The format 3 files are left beside the new ones."""
    with (path / UPGRADE_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = _manifest(path)
        if now.get("format") != 3:
            return now
        identities, templates = now["identities"], now["templates"]
        if any("\n" in i for i in now["ids"]):
            raise GalleryError(f"{path}: an identity id holds a line break; enrol the identities again")
        files: dict[str, bytes] = {
            "ids.txt": "".join(f"{i}\n" for i in now["ids"]).encode(),
            "identities.idx": np.load(path / "identities.idx.npy")[:identities].astype(np.int64).tobytes()
            if identities
            else b"",
            "templates.idx": np.load(path / "templates.idx.npy")[:templates].astype(np.int64).tobytes()
            if templates
            else b"",
        }
        codes: dict[str, int] = {}
        for position in now["positions"]:
            key = f"{position:02d}"
            index = faiss.read_index_binary(str(path / f"index-{key}.faiss"))
            files[f"codes-{key}.bin"] = index.reconstruct_n(0, index.ntotal).tobytes() if index.ntotal else b""
            files[f"codes-{key}.rows"] = np.load(path / f"index-{key}.rows.npy").astype(np.int64).tobytes()
            codes[key] = int(index.ntotal)
        for name, data in files.items():
            _replace(path / name, data)
        upgraded = {
            "format": FORMAT,
            "extractor": now["extractor"],
            "identities": identities,
            "identities_bytes": now["identities_bytes"],
            "ids_bytes": len(files["ids.txt"]),
            "templates": templates,
            "templates_bytes": now["templates_bytes"],
            "codes": codes,
            "descriptor_bits": now["descriptor_bits"],
        }
        _write_manifest(path, upgraded)
        return upgraded
