"""The federal repository's gallery: enrolment that survives a restart, 1:N search, decisions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest
from cryptography.fernet import Fernet

from custody.identity.prints import gallery as gallery_module
from custody.identity.prints.descriptors import CODE_BYTES, Floats32, train_codebook
from custody.identity.prints.gallery import (
    FLOOR,
    FORMAT,
    Compare,
    Decision,
    Gallery,
    GalleryError,
    Identity,
    fuse,
)
from custody.identity.prints.images import Capture
from custody.identity.prints.matcher import NbisMatcher
from custody.identity.prints.synthetic import synthetic_template
from custody.identity.prints.templates import Template

DISTRACTORS = 40


@pytest.fixture(scope="module")
def codebook() -> Floats32:
    return train_codebook(fingers=40)


@pytest.fixture(scope="module")
def nbis() -> NbisMatcher:
    return NbisMatcher()


@pytest.fixture(scope="module")
def prints(nbis: NbisMatcher, samples: dict[str, Capture]) -> dict[str, Template]:
    return {name: nbis.extract(capture) for name, capture in samples.items()}


def _compare(nbis: NbisMatcher) -> Compare:
    return nbis.compare_records


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, codebook: Floats32, prints: dict[str, Template]) -> Path:
    """Built once; each test opens its own copy."""
    g = Gallery.create(tmp_path_factory.mktemp("built") / "gallery", extractor=NbisMatcher.version, codebook=codebook)
    rng = np.random.default_rng(5)
    for i in range(DISTRACTORS):
        g.enrol(Identity(f"D{i}", (f"DISTRACTOR {i}",)), {1: synthetic_template(rng), 2: synthetic_template(rng)})
    g.enrol(Identity("P1", ("DOE, JOHN",), ("ROE, JACK",), {"fbi": "123"}), {1: prints["p1_1"], 2: prints["p2_1"]})
    g.save()
    return g.path


@pytest.fixture
def gallery(built: Path, tmp_path: Path) -> Gallery:
    shutil.copytree(built, tmp_path / "gallery")
    return Gallery.open(tmp_path / "gallery")


def test_enrolled_identities_survive_reopening(gallery: Gallery, prints: dict[str, Template]) -> None:
    reopened = Gallery.open(gallery.path)
    assert len(reopened) == DISTRACTORS + 1
    assert "P1" in reopened
    person = reopened.identity(DISTRACTORS)
    assert (person.names, person.aliases, person.record, person.fingers) == (
        ("DOE, JOHN",),
        ("ROE, JACK",),
        {"fbi": "123"},
        (1, 2),
    )
    stored = reopened.templates(DISTRACTORS)
    assert stored[1].position == 1
    assert {(m.x, m.y) for m in stored[1].minutiae} == {(m.x, m.y) for m in prints["p1_1"].minutiae}


def test_search_ranks_the_mate_first_and_awaits_confirmation(
    gallery: Gallery, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    result = gallery.search({1: prints["p1_2"], 2: prints["p2_2"]}, _compare(nbis), shortlist=10)
    best = result.candidates[0]
    assert best.identity.id == "P1"
    assert set(best.fingers) == {1, 2}
    assert best.score == fuse(best.fingers.values()) > 40
    assert best.status is Decision.PENDING_CONFIRMATION
    assert result.decision is Decision.PENDING_CONFIRMATION
    assert all(c.status is Decision.NO_HIT for c in result.candidates[1:])
    # two fingers are too few for the pre-filter: everyone is compared, whatever the shortlist
    assert result.compared == DISTRACTORS + 1 and result.penetration == 1.0


def test_without_confirmation_a_hit_is_a_hit_and_threshold_is_configurable(
    gallery: Gallery, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    probe = {1: prints["p1_2"]}
    assert gallery.search(probe, _compare(nbis), confirmation=False).decision is Decision.HIT
    assert gallery.search(probe, _compare(nbis), threshold=10_000).decision is Decision.NO_HIT


def test_pre_filter_finds_what_exhaustive_search_finds(
    tmp_path: Path, codebook: Floats32, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    """A ten-print search re-ranks only its shortlist and finds the mate exhaustive search finds."""
    rng = np.random.default_rng(6)
    gallery = Gallery.create(tmp_path / "g", extractor=NbisMatcher.version, codebook=codebook)
    for i in range(DISTRACTORS):
        gallery.enrol(Identity(f"D{i}", ("D",)), {p: synthetic_template(rng) for p in range(1, 11)})
    sample = {p: ("p1" if p <= 5 else "p2") for p in range(1, 11)}
    gallery.enrol(Identity("P1", ("DOE, JOHN",)), {p: prints[f"{f}_1"] for p, f in sample.items()})
    probe = {p: prints[f"{f}_2"] for p, f in sample.items()}
    exhaustive = gallery.search(probe, _compare(nbis), shortlist=None, top=3)
    filtered = gallery.search(probe, _compare(nbis), shortlist=5, top=3)
    assert exhaustive.compared == DISTRACTORS + 1 and filtered.compared == 5
    assert filtered.candidates[0].identity.id == exhaustive.candidates[0].identity.id == "P1"
    assert filtered.candidates[0].score == exhaustive.candidates[0].score


def test_identities_asked_for_are_compared_whatever_the_pre_filter_and_the_ranking_keep(
    tmp_path: Path, codebook: Floats32, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    """The people a booking's identifiers name are compared with its prints even where the pre-filter
    would leave them out, and their scores are given even below the candidates shown: do the prints
    on file match the identifier? An id the gallery lacks, or with no finger at a probe position, has
    nothing to give."""
    rng = np.random.default_rng(6)
    gallery = Gallery.create(tmp_path / "g", extractor=NbisMatcher.version, codebook=codebook)
    for i in range(DISTRACTORS):
        gallery.enrol(Identity(f"D{i}", ("D",)), {p: synthetic_template(rng) for p in range(1, 11)})
    gallery.enrol(Identity("P1", ("DOE, JOHN",)), {p: prints["p1_1" if p <= 5 else "p2_1"] for p in range(1, 11)})
    gallery.enrol(Identity("T", ("THUMBS, ONLY",)), {11: prints["p1_1"]})
    probe = {p: prints["p1_2" if p <= 5 else "p2_2"] for p in range(1, 11)}
    asked = frozenset({"D7", "P1", "T", "nobody"})
    result = gallery.search(probe, _compare(nbis), shortlist=1, top=1, include=asked)
    assert [c.identity.id for c in result.candidates] == ["P1"]
    assert result.compared == 2  # the shortlist of one (the mate) and D7
    assert set(result.included) == {"D7", "P1", "T"} and result.included["T"] == {}
    assert set(result.included["D7"]) == set(range(1, 11)) and fuse(result.included["D7"].values()) < 40
    assert result.included["P1"] == result.candidates[0].fingers


@pytest.mark.parametrize(
    ("fingers", "gallery_size", "kept"),
    [
        (10, 100_000, 300),  # 0.3 % is the ten-print shortlist itself
        (10, 1_000_000, 3_000),
        (10, 1_000, 300),  # never fewer than the shortlist
        (8, 100_000, 2_000),  # 2 %
        (4, 100_000, 30_000),  # 30 %
        (4, 2_000, 600),
        (3, 100_000, None),  # three fingers: everyone
        (1, 100_000, None),
        (10, 250, None),  # a shortlist as large as the gallery: everyone
    ],
)
def test_fewer_fingers_keep_more_of_the_gallery(fingers: int, gallery_size: int, kept: int | None) -> None:
    sized = Gallery.__new__(Gallery)
    sized._doc_offsets = [0] * gallery_size
    assert sized.shortlist_size(fingers, 300) == kept


def test_only_like_finger_positions_are_compared(
    gallery: Gallery, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    # the mate's print presented as a finger position nobody enrolled: nothing to compare
    result = gallery.search({7: prints["p1_2"]}, _compare(nbis), shortlist=None)
    assert result.candidates == () and result.decision is Decision.NO_HIT
    # presented as finger 2, it is compared with the other finger enrolled there and does not match
    swapped = gallery.search({2: prints["p1_2"]}, _compare(nbis), shortlist=None)
    assert swapped.decision is Decision.NO_HIT


def test_unsaved_enrolments_and_torn_writes_are_not_read_back(gallery: Gallery, prints: dict[str, Template]) -> None:
    gallery.enrol(Identity("LOST", ("NOT SAVED",)), {1: prints["p2_2"]})
    # a process dying here leaves bytes past the manifest's counts in the flat files
    with (gallery.path / "templates.bin").open("ab") as blob:
        blob.write(b"torn record")
    reopened = Gallery.open(gallery.path)
    assert "LOST" not in reopened and len(reopened) == DISTRACTORS + 1
    reopened.enrol(Identity("NEXT", ("SAVED",)), {1: prints["p2_2"]})
    enrolled = reopened.templates(len(reopened) - 1)[1].minutiae
    reopened.save()
    again = Gallery.open(gallery.path)
    assert again.identity(len(again) - 1).id == "NEXT"
    # the template read back is the one enrolled after the torn bytes, not the torn bytes themselves
    assert again.templates(len(again) - 1)[1].minutiae == enrolled
    assert len(enrolled) == min(255, len(prints["p2_2"].minutiae))


@pytest.mark.parametrize("name", ["templates.bin", "identities.jsonl"])
def test_a_gallery_file_cut_short_is_refused_as_damaged_on_opening(gallery: Gallery, name: str) -> None:
    """Found by a review: a search read the cut records and refused them for the data key."""
    with (gallery.path / name).open("r+b") as cut:
        cut.truncate((gallery.path / name).stat().st_size - 100)
    with pytest.raises(GalleryError, match=f"{name} is shorter than gallery.json says; the gallery is damaged: "):
        Gallery.open(gallery.path)


def test_enrolment_errors_say_what_is_wrong(gallery: Gallery, prints: dict[str, Template], tmp_path: Path) -> None:
    with pytest.raises(GalleryError, match="already enrolled"):
        gallery.enrol(Identity("P1", ("DOE, JOHN",)), {1: prints["p1_1"]})
    with pytest.raises(GalleryError, match="no usable finger"):
        gallery.enrol(Identity("X", ("X",)), {})
    with pytest.raises(GalleryError, match="no gallery here"):
        Gallery.open(tmp_path / "nowhere")
    with pytest.raises(GalleryError, match="already exists"):
        Gallery.create(gallery.path, extractor="x")
    manifest = json.loads((gallery.path / "gallery.json").read_text())
    (gallery.path / "gallery.json").write_text(json.dumps(manifest | {"format": 1}))
    with pytest.raises(GalleryError, match=f"format 1, this release reads {FORMAT}; enrol the identities again"):
        Gallery.open(gallery.path)


def test_templates_and_documents_are_sealed_at_rest_under_the_data_key(
    gallery: Gallery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9, item 7: biometric templates at rest encrypted with a key from configuration. Nothing
    of a template or a name is readable in the files; another key cannot open them."""
    record = next(iter(gallery._read_records([0], None)))[1]  # an ISO/IEC 19794-2 record, opened
    assert record[:4] == b"FMR\x00"
    for name in ("templates.bin", "identities.jsonl"):
        stored = (gallery.path / name).read_bytes()
        # (text in quotes or a NUL byte cannot occur in a token's base64 by chance, as "DOE" could)
        assert b"FMR\x00" not in stored and b'"DOE, JOHN"' not in stored and record[:40] not in stored, name
        assert stored.startswith(b"gAAAAA"), name  # a Fernet token
    reopened = Gallery.open(gallery.path)
    assert reopened.identity(0).names == gallery.identity(0).names
    monkeypatch.setenv("CUSTODY_DATA_KEY", Fernet.generate_key().decode())
    with pytest.raises(GalleryError, match="cannot be opened with the data key configured"):
        Gallery.open(gallery.path)


def test_fusion_adds_what_each_finger_scores_above_the_floor() -> None:
    assert fuse([FLOOR - 5, FLOOR - 1]) == 0
    assert fuse([FLOOR + 30]) == 30
    assert fuse([FLOOR + 30, FLOOR + 15, 3]) == 45
    # ten weak non-mated fingers stay below one clear mated finger
    assert fuse([FLOOR] * 10) < fuse([FLOOR + 40])


def _flipped(code: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    chosen = rng.choice(len(bits), int(share * len(bits)), replace=False)
    bits[chosen] ^= 1
    packed: np.ndarray = np.packbits(bits)
    return packed


def test_pre_filter_fuses_fingers_by_standard_score(tmp_path: Path, codebook: Floats32) -> None:
    """Four fingers each somewhat nearer than chance outrank one identical finger among random ones;
    a person with no finger at the probe's positions is never shortlisted."""
    rng = np.random.default_rng(8)
    gallery = Gallery.create(tmp_path / "g", extractor=NbisMatcher.version, codebook=codebook)
    probe = {p: rng.integers(0, 256, CODE_BYTES, dtype=np.uint8) for p in (1, 2, 3, 4)}
    template = synthetic_template(rng)
    for i in range(50):
        codes = {p: rng.integers(0, 256, CODE_BYTES, dtype=np.uint8) for p in probe}
        gallery.enrol(Identity(f"D{i}", ("D",)), dict.fromkeys(codes, template), codes=codes)
    near = {p: _flipped(code, 0.4, rng) for p, code in probe.items()}  # similarity about 0.2 at each finger
    one_identical = {1: probe[1]} | {p: rng.integers(0, 256, CODE_BYTES, dtype=np.uint8) for p in (2, 3, 4)}
    gallery.enrol(Identity("NEAR", ("N",)), dict.fromkeys(near, template), codes=near)
    gallery.enrol(Identity("ONE", ("O",)), dict.fromkeys(one_identical, template), codes=one_identical)
    gallery.enrol(Identity("ELSEWHERE", ("E",)), {9: template}, codes={9: probe[1]})
    ranked = gallery.shortlist(probe, len(gallery))
    assert [gallery.identity(r).id for r in ranked[:2]] == ["NEAR", "ONE"]
    assert "ELSEWHERE" not in {gallery.identity(r).id for r in ranked} and len(ranked) == len(gallery) - 1
    assert gallery.shortlist(probe, 5) == ranked[:5]
    assert gallery.shortlist({9: probe[1]}, 5) == [len(gallery) - 1]


def _files(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(path.iterdir()) if f.name != "gallery.json"}


def test_a_save_only_appends_to_the_files(gallery: Gallery, prints: dict[str, Template]) -> None:
    """Format 3 rewrote every index at every save (0.34 s at 20,000 identities, growing with the
    gallery; a kept booking paid it inside its transaction): every file now keeps its bytes and grows
    at its end, and the manifest counts what is valid."""
    before = _files(gallery.path)
    gallery.enrol(Identity("NEW", ("NEW, ONE",)), {1: prints["p2_2"], 7: prints["p1_2"]})
    gallery.save()
    after = _files(gallery.path)
    assert set(before) <= set(after) and {"codes-07.bin", "codes-07.rows"} <= set(after) - set(before)
    grown = {name for name in before if after[name] != before[name]}
    assert all(after[name].startswith(before[name]) for name in before)
    assert grown == {
        "ids.txt",
        "identities.jsonl",
        "identities.idx",
        "templates.bin",
        "templates.idx",
        "codes-01.bin",
        "codes-01.rows",
    }
    manifest = json.loads((gallery.path / "gallery.json").read_text())
    assert manifest["codes"] == {"01": DISTRACTORS + 2, "02": DISTRACTORS + 1, "07": 1}
    assert manifest["identities"] == DISTRACTORS + 2 and manifest["ids_bytes"] == len(after["ids.txt"])


def test_an_open_gallery_catches_up_with_what_another_saved(
    gallery: Gallery, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    """A process keeps its gallery open and reads only what others saved since (opening reads every
    finger code: 1.5 GB at 100,000 identities)."""
    other = Gallery.open(gallery.path)
    other.enrol(Identity("P2", ("POE, EDGAR",)), {1: prints["p2_1"]})
    other.save()
    assert "P2" not in gallery
    assert gallery.refresh()
    assert "P2" in gallery and len(gallery) == DISTRACTORS + 2
    found = gallery.search({1: prints["p2_2"]}, _compare(nbis), shortlist=None, top=2)
    assert found.candidates[0].identity.id == "P2"
    # enrolled here after catching up, saved, and read back by the other as one more row
    gallery.enrol(Identity("P3", ("ROE, RICHARD",)), {2: prints["p2_2"]})
    gallery.save()
    assert other.refresh() and other.identity(len(other) - 1).id == "P3"


def test_a_gallery_created_anew_in_the_directory_is_not_caught_up_with(gallery: Gallery, codebook: Floats32) -> None:
    shutil.rmtree(gallery.path)
    Gallery.create(gallery.path, extractor=NbisMatcher.version, codebook=codebook)
    assert not gallery.refresh()  # opened again by the caller: its rows are not this directory's
    unsaved = Gallery.open(gallery.path)
    unsaved.enrol(Identity("U", ("U",)), {1: synthetic_template(np.random.default_rng(1))})
    with pytest.raises(GalleryError, match="save them before refreshing"):
        unsaved.refresh()


def _as_format_3(path: Path) -> None:
    """Rewrite a gallery's row maps and codes as format 3 kept them (npy row maps, FAISS index files,
    the ids in the manifest), removing format 4's files."""
    manifest = json.loads((path / "gallery.json").read_text())
    ids = (path / "ids.txt").read_text().splitlines()
    np.save(path / "identities.idx.npy", np.frombuffer((path / "identities.idx").read_bytes(), dtype=np.int64))
    np.save(
        path / "templates.idx.npy", np.frombuffer((path / "templates.idx").read_bytes(), dtype=np.int64).reshape(-1, 4)
    )
    for key in manifest["codes"]:
        index = faiss.IndexBinaryFlat(CODE_BYTES * 8)
        index.add(np.frombuffer((path / f"codes-{key}.bin").read_bytes(), dtype=np.uint8).reshape(-1, CODE_BYTES))
        faiss.write_index_binary(index, str(path / f"index-{key}.faiss"))
        np.save(
            path / f"index-{key}.rows.npy", np.frombuffer((path / f"codes-{key}.rows").read_bytes(), dtype=np.int64)
        )
        for name in (f"codes-{key}.bin", f"codes-{key}.rows"):
            (path / name).unlink()
    for name in ("ids.txt", "identities.idx", "templates.idx"):
        (path / name).unlink()
    positions = sorted(int(k) for k in manifest.pop("codes"))
    del manifest["ids_bytes"]
    (path / "gallery.json").write_text(json.dumps(manifest | {"format": 3, "positions": positions, "ids": ids}))


def test_a_format_3_gallery_is_upgraded_in_place_when_opened(
    gallery: Gallery, prints: dict[str, Template], nbis: NbisMatcher
) -> None:
    probe = {1: prints["p1_2"], 2: prints["p2_2"]}
    expected = gallery.search(probe, _compare(nbis), top=3).document()
    _as_format_3(gallery.path)
    upgraded = Gallery.open(gallery.path)
    assert json.loads((gallery.path / "gallery.json").read_text())["format"] == FORMAT
    assert upgraded.search(probe, _compare(nbis), top=3).document() == expected
    upgraded.enrol(Identity("AFTER", ("AFTER, UPGRADE",)), {1: prints["p2_1"]})
    upgraded.save()
    assert Gallery.open(gallery.path).identity(DISTRACTORS + 1).id == "AFTER"


def test_a_catch_up_that_fails_halfway_changes_nothing(
    gallery: Gallery, prints: dict[str, Template], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: rows read before a failure were kept, read again at the next catch-up
    (two rows for one identity), and the next save damaged the gallery for every process."""
    other = Gallery.open(gallery.path)
    other.enrol(Identity("LATE", ("LATE, ONE",)), {1: prints["p2_1"]})
    other.save()
    real = gallery_module._rows

    def failing(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name.startswith("codes-"):
            raise OSError(24, "Too many open files")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(gallery_module, "_rows", failing)
    with pytest.raises(OSError, match="Too many open files"):
        gallery.refresh()
    monkeypatch.setattr(gallery_module, "_rows", real)
    assert gallery.refresh() and len(gallery) == DISTRACTORS + 2 and gallery._ids["LATE"] == DISTRACTORS + 1
    gallery.enrol(Identity("AFTER", ("AFTER, ONE",)), {2: prints["p2_2"]})
    gallery.save()
    assert Gallery.open(gallery.path).identity(DISTRACTORS + 2).id == "AFTER"


def test_an_id_holding_a_unicode_line_separator_is_read_back(gallery: Gallery, prints: dict[str, Template]) -> None:
    """Found by a review: ids were split with ``str.splitlines``, which also splits at U+2028 and
    the like, so such an id made the gallery impossible to open; a line feed is refused."""
    gallery.enrol(Identity("B\u2028x\x85y", ("ODD, ID",)), {1: prints["p2_1"]})
    gallery.save()
    assert "B\u2028x\x85y" in Gallery.open(gallery.path)
    with pytest.raises(GalleryError, match="one line of text"):
        gallery.enrol(Identity("two\nlines", ("X",)), {1: prints["p2_1"]})


def test_an_upgrade_begun_before_another_ended_writes_nothing_back(
    gallery: Gallery, prints: dict[str, Template]
) -> None:
    """Found by a review: a process that read the format 3 manifest before another upgraded the
    gallery and enrolled wrote the old rows back over that enrolment."""
    _as_format_3(gallery.path)
    stale = json.loads((gallery.path / "gallery.json").read_text())
    first = Gallery.open(gallery.path)  # upgrades
    first.enrol(Identity("BETWEEN", ("BETWEEN, ONE",)), {1: prints["p2_1"]})
    first.save()
    assert gallery_module._upgrade_from_3(gallery.path, stale)["identities"] == DISTRACTORS + 2
    assert "BETWEEN" in Gallery.open(gallery.path) and first.refresh()
