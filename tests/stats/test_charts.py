"""Charts are written as real PNG and SVG files, with the source and caveats printed on them."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from custody.domain.errors import InvalidInput, NotFound
from custody.stats.charts import render
from custody.stats.datasets import FBI_2019, UCR
from custody.stats.warehouse import Warehouse


@pytest.mark.parametrize("name", ["murders-chicago-miami-dade", "chicago-murders-monthly"])
def test_shipped_data_charts_render_as_png(warehouse: Warehouse, name: str, tmp_path: Path) -> None:
    out = render(warehouse, name, tmp_path / f"{name}.png")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1000, 560)
        assert len(image.convert("L").getcolors() or []) > 10  # something is drawn, not a blank canvas


def test_svg_carries_its_source_and_caveat_as_text(warehouse: Warehouse, tmp_path: Path) -> None:
    out = render(warehouse, "murders-chicago-miami-dade", tmp_path / "m.svg")
    text = "".join(ET.parse(out).getroot().itertext())
    assert "Marshall Project" in text and "not the whole county" in text
    # found by a review: the terms of reuse were not on the image, and the title said 1975–2015 over a 2019 point
    words = " ".join(text.split())  # the note wraps across lines
    assert f"Terms: {UCR.title}: {UCR.licence}." in words and f"{FBI_2019.title}: {FBI_2019.licence}." in words
    assert "1975–2015 and 2019" in words


def test_texas_chart_marks_sb4(imported: Warehouse, tmp_path: Path) -> None:
    text = "".join(ET.parse(render(imported, "texas-detainers", tmp_path / "t.svg")).getroot().itertext())
    assert "SB 4 in effect" in text and "1 Sep 2017" in text
    assert render(imported, "travis-detainers", tmp_path / "travis.png").stat().st_size > 0


def test_unknown_chart_or_format_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="choose one of"):
        render(warehouse, "pie", tmp_path / "x.png")
    with pytest.raises(InvalidInput, match=r"\.png or \.svg"):
        render(warehouse, "murders-chicago-miami-dade", tmp_path / "x.pdf")
    with pytest.raises(InvalidInput, match=r"the folder .*/no-such does not exist; create it"):
        render(warehouse, "murders-chicago-miami-dade", tmp_path / "no-such" / "x.png")
    assert not (tmp_path / "no-such").exists()  # not made behind the user's back
    (tmp_path / "a-file").write_text("")
    with pytest.raises(InvalidInput, match=r"does not exist|cannot write"):
        render(warehouse, "murders-chicago-miami-dade", tmp_path / "a-file" / "x.png")


def test_the_command_line_starts_without_matplotlib() -> None:
    """Every `custody` command imports this module; matplotlib is loaded only to draw (it was 0.7 s
    of each command's start, `custody worker` and `custody law decide` included)."""
    probe = "import sys, custody.cli.main; print('matplotlib' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"
