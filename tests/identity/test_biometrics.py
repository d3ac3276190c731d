"""The federal repository's prints as each process holds them: the gallery kept open, caught up
with what other processes saved, and shared by threads that search while another enrols."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custody.identity import biometrics, settings
from custody.identity.prints.gallery import Decision, Gallery, GalleryError, Identity
from custody.identity.prints.matcher import NbisMatcher
from tests.identity.fingerprints import FIRST_VISIT, SECOND_VISIT, prints


def _found(images: dict[int, str]) -> list[str]:
    result = biometrics.search(settings.from_environment(), prints(images)).result
    assert result is not None
    return [c.identity.id for c in result.candidates if c.score >= result.candidates[0].score]


@pytest.mark.usefixtures("gallery")
def test_the_process_gallery_catches_up_with_another_process_enrolment() -> None:
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    biometrics.enrol_templates(settings.from_environment(), Identity("idn_HERE", ("HERE, ONE",)), templates)
    assert _found(FIRST_VISIT) == ["idn_HERE"]  # the gallery this process now keeps open
    # another process enrols the same fingers under another id: this process's gallery reads it
    other = Gallery.open(settings.gallery_path())
    other.enrol(Identity("idn_THERE", ("THERE, TWO",)), biometrics.usable(prints(SECOND_VISIT))[0])
    other.save()
    assert sorted(_found(FIRST_VISIT)) == ["idn_HERE", "idn_THERE"]


@pytest.mark.usefixtures("gallery")
def test_a_gallery_replaced_in_its_directory_is_opened_anew() -> None:
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    biometrics.enrol_templates(settings.from_environment(), Identity("idn_GONE", ("GONE, ONE",)), templates)
    assert _found(FIRST_VISIT) == ["idn_GONE"]
    path = settings.gallery_path()
    codebook = np.load(path / "codebook.npy")
    shutil.rmtree(path)
    Gallery.create(path, extractor=NbisMatcher.version, codebook=codebook)
    assert biometrics.search(settings.from_environment(), prints(FIRST_VISIT)).result is not None
    assert _found(FIRST_VISIT) == []


@pytest.mark.usefixtures("gallery")
def test_threads_search_while_another_enrols() -> None:
    """Searches share the process's gallery; an enrolment waits for them and has it alone (FAISS
    indexes are not safe to grow while searched)."""
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    search = settings.from_environment()

    def enrol(i: int) -> list[int]:
        return biometrics.enrol_templates(search, Identity(f"idn_T{i}", (f"T, {i}",)), templates)

    with ThreadPoolExecutor(4) as pool:
        enrolled = [pool.submit(enrol, i) for i in range(6)]
        searched = [pool.submit(_found, FIRST_VISIT) for _ in range(6)]
        assert [f.result() for f in enrolled] == [[1, 2]] * 6
        assert all(set(f.result()) <= {f"idn_T{i}" for i in range(6)} for f in searched)
    assert sorted(_found(FIRST_VISIT)) == [f"idn_T{i}" for i in range(6)]
    assert len(Gallery.open(settings.gallery_path())) == 6


@pytest.mark.usefixtures("gallery")
def test_searches_of_one_process_run_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a review: every search took the writer's turn to see whether the gallery was behind,
    so a process's searches ran one at a time. Two searches now meet inside the gallery's search (a
    barrier both must reach; one at a time, the first would wait there alone and break it)."""
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    biometrics.enrol_templates(settings.from_environment(), Identity("idn_BOTH", ("BOTH, ONE",)), templates)
    _found(FIRST_VISIT)  # opened and caught up before the two start
    meet = threading.Barrier(2, timeout=30)
    real = Gallery.search

    def search_and_meet(self: Gallery, *args: Any, **kwargs: Any) -> Any:
        meet.wait()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Gallery, "search", search_and_meet)
    with ThreadPoolExecutor(2) as pool:
        both = [pool.submit(_found, FIRST_VISIT) for _ in range(2)]
        assert [f.result() for f in both] == [["idn_BOTH"], ["idn_BOTH"]]


@pytest.mark.usefixtures("gallery")
def test_a_search_reading_a_gallery_replaced_meanwhile_runs_again_on_the_new_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found by a review: a gallery directory replaced while a search read it (restored from a
    backup) was read at the offsets of the gallery before, and the search failed as if the data key
    were wrong, or named whoever the new files held there. It now searches the new gallery."""
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    biometrics.enrol_templates(settings.from_environment(), Identity("idn_BEFORE", ("BEFORE, ONE",)), templates)
    assert _found(FIRST_VISIT) == ["idn_BEFORE"]
    path = settings.gallery_path()
    restored = tmp_path / "restored"
    replacement = Gallery.create(restored, extractor=NbisMatcher.version, codebook=np.load(path / "codebook.npy"))
    # the same person's fingers, enrolled each at the other's position, behind a longer document
    replacement.enrol(Identity("idn_RESTORED", ("RESTORED, A LONGER NAME",)), {1: templates[2], 2: templates[1]})
    replacement.save()
    real, replaced = Gallery._read_records, []

    def replace_then_read(self: Gallery, *args: Any, **kwargs: Any) -> Any:
        if not replaced:  # the shortlist was drawn from the gallery before; its rows are read now
            shutil.rmtree(path)
            shutil.move(restored, path)
            replaced.append(True)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Gallery, "_read_records", replace_then_read)
    result = biometrics.search(settings.from_environment(), prints(FIRST_VISIT)).result
    assert replaced and result is not None
    assert [c.identity.id for c in result.candidates] == ["idn_RESTORED"]
    assert result.decision is Decision.NO_HIT  # the fingers no longer match at their positions


@pytest.mark.usefixtures("gallery")
def test_a_gallery_removed_during_a_search_is_an_error_not_a_search_of_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a review: the retry found no gallery and answered "no one enrolled", which keeps the
    person's prints as a new identity, while the search before the removal had found them."""
    templates, _ = biometrics.usable(prints(SECOND_VISIT))
    biometrics.enrol_templates(settings.from_environment(), Identity("idn_KNOWN", ("KNOWN, ONE",)), templates)
    assert _found(FIRST_VISIT) == ["idn_KNOWN"]
    real = Gallery.search

    def search_then_remove(self: Gallery, *args: Any, **kwargs: Any) -> Any:
        found = real(self, *args, **kwargs)
        shutil.rmtree(self.path, ignore_errors=True)  # a restore begins
        return found

    monkeypatch.setattr(Gallery, "search", search_then_remove)
    with pytest.raises(GalleryError, match="replaced during the search; search again"):
        biometrics.search(settings.from_environment(), prints(FIRST_VISIT))
