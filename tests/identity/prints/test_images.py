from __future__ import annotations

import io
import math

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from custody.identity.prints.images import Capture, UnreadableImage, decode, enhance, wsq_decode, wsq_encode


def test_wsq_keeps_size_and_most_of_the_signal(samples: dict[str, Capture]) -> None:
    original = samples["p1_1"]
    data = wsq_encode(original)
    assert len(data) < original.pixels.size // 5
    back = decode(data)
    assert back.pixels.shape == original.pixels.shape
    error = np.abs(back.pixels.astype(int) - original.pixels.astype(int)).mean()
    assert error < 8


def test_broken_wsq_is_an_unreadable_image(samples: dict[str, Capture]) -> None:
    data = wsq_encode(samples["p2_1"])
    with pytest.raises(UnreadableImage, match="WSQ data cannot be decoded"):
        wsq_decode(data[: len(data) // 3], name="cut.wsq")


def test_non_image_bytes_are_refused_naming_what_is_read() -> None:
    with pytest.raises(UnreadableImage, match=r"notes.txt: not an image custody reads \(PNG, JPEG") as refused:
        decode(b"this is text", name="notes.txt")
    assert "BytesIO" not in str(refused.value)  # Pillow's words for the buffer, not the user's file


@pytest.mark.parametrize(("recorded", "read"), [((96, 96), 500), ((72, 72), 500), ((1000, 1000), 1000), (None, 500)])
def test_a_screen_resolution_stamped_by_an_image_tool_reads_as_500_ppi(
    samples: dict[str, Capture], recorded: tuple[int, int] | None, read: int
) -> None:
    out = io.BytesIO()
    Image.fromarray(samples["p1_1"].pixels).save(out, format="PNG", **({"dpi": recorded} if recorded else {}))
    assert decode(out.getvalue()).ppi == read


def _grating(size: int, period: float, degrees: float) -> npt.NDArray[np.float64]:
    yy, xx = np.mgrid[0:size, 0:size]
    across = xx * math.cos(math.radians(degrees)) + yy * math.sin(math.radians(degrees))
    wave: npt.NDArray[np.float64] = np.cos(2 * math.pi * across / period)
    return wave


def test_enhancement_restores_noisy_ridges_and_blanks_the_background() -> None:
    clean = _grating(256, 9.0, 30.0)
    noisy = 128 + 60 * clean + np.random.default_rng(1).normal(0, 60, clean.shape)
    pixels = np.full((256, 384), 200.0)
    pixels[:, :256] = noisy
    enhanced = enhance(Capture(np.clip(pixels, 0, 255).astype(np.uint8), ppi=500))
    assert enhanced.pixels.shape == (256, 384) and enhanced.ppi == 500
    inner = (slice(40, 216), slice(40, 216))
    before = np.corrcoef(pixels[inner].ravel(), clean[inner].ravel())[0, 1]
    after = np.corrcoef(enhanced.pixels[inner].astype(float).ravel(), clean[inner].ravel())[0, 1]
    assert after > 0.8 > before + 0.2  # ridges dark where the clean grating is low, as in the input
    assert (enhanced.pixels[:, 300:] == 255).all()  # the blank platen stays blank
