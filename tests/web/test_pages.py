"""What the pages print: moments in the agency's own time, hold clocks in words."""

from __future__ import annotations

from custody.web.pages import CLOCK_WORDS, local_time, place, words

MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"


def test_a_moment_reads_in_the_agencys_zone_with_its_abbreviation() -> None:
    """An audit found a Miami hold's end shown in UTC, five hours off the officer's clock."""
    assert local_time("2026-12-09T09:28:00+00:00", MIAMI_DADE) == "2026-12-09 04:28 EST"
    assert local_time("2019-07-04T16:00:00+00:00", "ocd-division/country:us/state:tx/county:el_paso") == (
        "2019-07-04 10:00 MDT"
    )
    assert local_time("2026-12-09T09:28:00+00:00", "access:cli") == "2026-12-09 09:28 UTC"  # no agency's clock
    assert local_time(None, MIAMI_DADE) == ""


def test_every_hold_clock_has_words() -> None:
    from custody.law.model import HoldClock

    assert set(CLOCK_WORDS) == {c.value for c in HoldClock}


def test_a_division_reads_as_its_name_with_its_id_on_hover() -> None:
    assert place(MIAMI_DADE) == (f'<span class="place" title="{MIAMI_DADE}">Miami-Dade County, Florida</span>')
    two = place("ocd-division/country:us/state:il, ocd-division/country:us/state:tx/county:el_paso")
    assert ">Illinois</span>, <span" in two and ">El Paso County, Texas</span>" in two
    assert place("all jurisdictions") == "all jurisdictions" and place(None) == ""
    assert place("<b>") == "&lt;b&gt;"  # not a division: shown as it is, escaped
    assert words("held_on_detainer") == "held on detainer" and words(None) == ""
