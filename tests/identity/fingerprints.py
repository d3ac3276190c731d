"""Shared by the fingerprint identification tests: the shipped sample prints (nbis-rs, MIT; see
prints/data/PROVENANCE.md), a gallery of the federal repository per test, and bookings."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.booking.commands import BookingIn
from custody.booking.service import FingerprintImage
from custody.identity.prints.descriptors import train_codebook
from custody.identity.prints.gallery import Gallery
from custody.identity.prints.matcher import NbisMatcher

DATA = Path(__file__).parent / "prints" / "data"
COOK = "ocd-division/country:us/state:il/county:cook"
# p1_1/p1_2 are two impressions of one finger, p2_1/p2_2 of another: mated pairs score about 100
# and 73 with bozorth3, non-mated ones below 20 (the fusion floor).
FIRST_VISIT = {1: "p1_1", 2: "p2_1"}
SECOND_VISIT = {1: "p1_2", 2: "p2_2"}


def prints(fingers: dict[int, str]) -> list[FingerprintImage]:
    return [FingerprintImage(p, f"{name}.png", (DATA / f"{name}.png").read_bytes()) for p, name in fingers.items()]


def booking(number: str, booked_at: str, last: str, first: str, identifiers: dict[str, str]) -> BookingIn:
    return BookingIn.model_validate(
        {
            "agency": COOK,
            "booking_number": number,
            "booked_at": booked_at,
            "person": {
                "last_name": last,
                "first_name": first,
                "date_of_birth": "1990-01-01",
                "identifiers": identifiers,
            },
            "charges": [{"offense": "theft", "level": "misdemeanor"}],
        }
    )


@pytest.fixture(scope="session")
def blank_gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty gallery made once (training the index codebook takes seconds); each test copies it."""
    path = tmp_path_factory.mktemp("blank") / "gallery"
    Gallery.create(path, extractor=NbisMatcher.version, codebook=train_codebook(fingers=40))
    return path


@pytest.fixture
def gallery(blank_gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's federal gallery, with the default threshold and examiner confirmation required."""
    path = tmp_path / "gallery"
    shutil.copytree(blank_gallery, path)
    monkeypatch.setenv("CUSTODY_GALLERY", str(path))
    monkeypatch.delenv("CUSTODY_MATCH_THRESHOLD", raising=False)
    monkeypatch.delenv("CUSTODY_EXAMINER_CONFIRMATION", raising=False)
    yield path
