"""The booking page's prints: what cannot be read is refused at upload, an ANSI/NIST file's raw
images are kept readable, a double click acts once, and a search that could not use a print says so
(four defects found by a review of the web pages)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from custody.access.tokens import Issuer
from custody.exchange import worker
from custody.identity.prints.ansi_nist import BinaryRecord, TaggedRecord, write_transaction
from custody.identity.prints.images import decode, load
from custody.service import Custody
from tests.access.support import bearer, client, issuer  # noqa: F401 (fixtures)
from tests.identity.fingerprints import COOK, DATA, blank_gallery, gallery  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("gallery")


def _booked(client: TestClient, issuer: Issuer, number: str) -> tuple[str, dict[str, str]]:  # noqa: F811
    jail = bearer(issuer, "jail_officer@cook")
    document = {
        "agency": COOK,
        "booking_number": number,
        "booked_at": "2017-08-16T07:00:00-05:00",
        "person": {"last_name": "Doe", "first_name": "Ann", "date_of_birth": "1990-01-01"},
        "charges": [{"offense": "theft", "level": "misdemeanor"}],
    }
    made = client.post("/bookings", json=document, headers=jail)
    assert made.status_code == 201, made.text
    return made.json()["id"], jail


def _stored(custody: Custody, booking_id: str) -> list[dict[str, object]]:
    return [e["data"] for e in custody.booking_view(booking_id)["timeline"] if e["type"] == "FingerprintStored"]


def test_a_file_that_is_no_image_is_refused_at_upload(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    """It was stored ('stored 1 print(s)'), and the federal search then showed only 'No hit'."""
    booking_id, jail = _booked(client, issuer, "CCJ-GARBAGE")
    sent = client.post(
        f"/desk/{booking_id}/prints", data={"position": "3"}, files={"image": ("a.png", b"garbage")}, headers=jail
    )
    assert sent.status_code == 422, sent.text
    assert "a.png: not an image custody reads" in sent.text and "nothing was stored" in sent.text
    assert _stored(custody, booking_id) == []
    api = client.post(
        f"/bookings/{booking_id}/fingerprints", data={"position": "3"}, files={"image": ("a.png", b"x")}, headers=jail
    )
    assert api.status_code == 422 and api.headers["content-type"] == "application/problem+json"


def test_raw_pixels_from_an_ansi_nist_file_are_kept_as_an_image_the_search_reads(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    """A Type-4 record of uncompressed pixels was kept as bare pixels, which no search could read."""
    booking_id, jail = _booked(client, issuer, "CCJ-RAW")
    thumb = load(DATA / "p1_1.png")
    header = bytes([0, 1, 255, 255, 255, 255, 255, 1]) + thumb.width.to_bytes(2, "big")
    header += thumb.height.to_bytes(2, "big") + b"\x00"  # compression 0: raw pixels
    nist = write_transaction(
        [
            TaggedRecord(1, {2: b"0201", 4: b"CAR", 5: b"20170816", 7: b"ILCPD0000", 8: b"IL0160000", 9: b"TCN1"}),
            TaggedRecord(2, {2: b"0"}),
            BinaryRecord(4, 1, header, thumb.pixels.tobytes()),
        ]
    )
    sent = client.post(
        f"/desk/{booking_id}/prints", files={"nist": ("card.an2", nist)}, headers=jail, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    with custody.read() as unit:
        from sqlalchemy import select

        from custody.store.models import FingerprintImageRow

        (kept,) = unit.session.scalars(select(FingerprintImageRow.data)).all()
    assert np.array_equal(decode(kept).pixels, thumb.pixels)  # lossless, and readable
    client.post(f"/desk/{booking_id}/prints/submission", headers=jail)
    worker.drain(custody, worker.EVERY_PARTY)
    searched = [e for e in custody.booking_view(booking_id)["timeline"] if e["type"] == "FingerprintsSearched"]
    assert searched[-1]["data"]["refused"] == []


def test_a_double_click_stores_and_searches_once(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    booking_id, jail = _booked(client, issuer, "CCJ-TWICE")
    image = (DATA / "p1_1.png").read_bytes()
    for _ in range(2):
        sent = client.post(
            f"/desk/{booking_id}/prints",
            data={"position": "1", "idempotency_key": "form-1-prints"},
            files={"image": ("p1_1.png", image)},
            headers=jail,
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
    assert len(_stored(custody, booking_id)) == 1
    other = client.post(
        f"/desk/{booking_id}/prints",
        data={"position": "1", "idempotency_key": "form-1-prints"},
        files={"image": ("p1_2.png", (DATA / "p1_2.png").read_bytes())},
        headers=jail,
    )
    assert other.status_code == 409 and len(_stored(custody, booking_id)) == 1  # the key again, another file
    for _ in range(2):
        page = client.post(
            f"/desk/{booking_id}/prints/submission",
            data={"idempotency_key": "form-1-search"},
            headers=jail,
            follow_redirects=False,
        )
        assert page.status_code == 303 and "submitted+1+print" in page.headers["location"]
    timeline = custody.booking_view(booking_id)["timeline"]
    assert sum(e["type"] == "FingerprintsSubmitted" for e in timeline) == 2  # at booking, and once again


def test_the_booking_page_says_which_prints_the_search_could_not_use(
    client: TestClient,  # noqa: F811
    issuer: Issuer,  # noqa: F811
    custody: Custody,
) -> None:
    booking_id, jail = _booked(client, issuer, "CCJ-BLANK")
    blank = io.BytesIO()
    Image.new("L", (300, 300), 255).save(blank, format="PNG")  # an image, but no ridge on it
    sent = client.post(
        f"/desk/{booking_id}/prints",
        data={"position": "4"},
        files={"image": ("blank.png", blank.getvalue())},
        headers=jail,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    client.post(f"/desk/{booking_id}/prints/submission", headers=jail)
    worker.drain(custody, worker.EVERY_PARTY)
    page = client.get(f"/desk/{booking_id}", headers=jail)
    assert "The latest federal search could not use every print" in page.text and "Finger 4: " in page.text
