from __future__ import annotations

import numpy as np
import pytest

from custody.identity.prints.images import Capture, UnreadableImage, decode, wsq_decode, wsq_encode


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


def test_non_image_bytes_are_refused() -> None:
    with pytest.raises(UnreadableImage, match="not a readable image"):
        decode(b"this is text", name="notes.txt")
