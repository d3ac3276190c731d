"""Whether a capture can be compared at all, and if not, the reason a booking officer can act on.

These are hard limits, not a quality score: an image too small to hold a fingertip, one with no
ridge contrast (a blank or saturated platen), or one where the extractor found too few minutiae for
bozorth3 to build a pair table. A refused capture is reported, never silently scored as zero, so
the officer can take the print again. NFIQ 2 (recorded on the template where computed) grades the
rest.
"""

from __future__ import annotations

from custody.identity.prints.images import Capture
from custody.identity.prints.templates import Template

MIN_SIDE_PX = 96  # about 5 mm at 500 ppi: less than any fingertip contact area
MIN_CONTRAST = 8.0  # grey-level standard deviation of a blank or saturated platen
MIN_MINUTIAE = 6  # bozorth3 needs pairs of pairs; fewer points cannot make a reliable decision


class UnusableCapture(ValueError):
    """A capture refused for comparison; the message is the reason."""


def check_capture(capture: Capture, *, name: str = "image") -> None:
    """Refuse images that cannot hold a usable fingerprint, before spending an extraction on them."""
    side = min(capture.width, capture.height) * 500 // max(capture.ppi, 1)
    if side < MIN_SIDE_PX:
        raise UnusableCapture(f"{name}: {capture.width}×{capture.height} px is too small to hold a fingerprint")
    contrast = float(capture.pixels.std())
    if contrast < MIN_CONTRAST:
        raise UnusableCapture(f"{name}: no ridge contrast (grey-level spread {contrast:.1f}); take the print again")


def check_template(template: Template, *, name: str = "image") -> None:
    if len(template.minutiae) < MIN_MINUTIAE:
        found = len(template.minutiae)
        raise UnusableCapture(
            f"{name}: only {found} minutiae found (at least {MIN_MINUTIAE} needed); take the print again"
        )
