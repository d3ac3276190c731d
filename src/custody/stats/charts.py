"""Charts of the measures, as PNG or SVG, drawn with matplotlib's object API (no display, no network).

Each chart prints its source and its main caveat under the plot, because a chart is often shared
without the text around it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from custody.domain.errors import InvalidInput, NotFound
from custody.stats.claims import CHICAGO_ORI, MIAMI_DADE_ORI, MIAMI_ORI, SPEECH_DATE
from custody.stats.crime import Measure, agency_year, chicago_monthly, series
from custody.stats.datasets import CHICAGO, FBI_2019, TEXAS, TRAVIS, UCR, Dataset
from custody.stats.detainers import SB4_EFFECTIVE, texas_monthly, travis_monthly
from custody.stats.warehouse import Warehouse

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
# matplotlib is imported where a chart is drawn: every `custody` command imports this module, and
# matplotlib took 0.7 of the 1.8 s every command spent starting (`custody worker`, `custody law decide`).

FORMATS = (".png", ".svg")


def _figure(title: str, ylabel: str, note: str, *data: Dataset) -> tuple[Figure, Axes]:
    """A chart with its note and each data set's licence or terms under it (found by a review: a
    chart shared alone did not say on what terms its figures could be reused)."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    terms = " ".join(f"{d.title}: {d.licence}." for d in data)
    text = f"{note} Terms: {terms}" if data else note
    # Room under the plot for the note as it wraps (about 175 characters a line at this size), so that
    # it never runs over the axis labels.
    bottom = min(0.3, 0.03 + 0.026 * (math.ceil(len(text) / 175) + 1))
    layout = ConstrainedLayoutEngine(rect=(0, bottom, 1, 1 - bottom))  # left, bottom, width, height
    fig = Figure(figsize=(10, 5.6), dpi=100, layout=layout)
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=13)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.005, text, fontsize=7.5, color="#444444", wrap=True, va="bottom")
    return fig, ax


def murders_chicago_miami_dade(w: Warehouse) -> Figure:
    fig, ax = _figure(
        "Murders per 100,000 residents, by police agency, 1975–2015 and 2019",
        "murders per 100,000",
        f"Sources: {UCR.cite()}; 2019: {FBI_2019.title}. The Miami-Dade Police Department covers the unincorporated "
        "county and contract towns (about 1.2 of 2.7 million people), not the whole county; the City of Miami has "
        "its own police. Rates are per agency population; a 2015 rate may divide by the 2014 population (the "
        "file's own note).",
        UCR,
        FBI_2019,
    )
    for ori, label, style in (
        (CHICAGO_ORI, "Chicago Police Department", "-"),
        (MIAMI_DADE_ORI, "Miami-Dade Police Department (its area)", "-"),
        (MIAMI_ORI, "City of Miami Police Department", ":"),
    ):
        years, rates = zip(*series(w, ori, Measure.MURDERS), strict=True)
        ax.plot(years, rates, style, label=label, linewidth=2)
    chicago_2019 = agency_year(w, CHICAGO_ORI, 2019)
    ax.plot([2019], [chicago_2019.per_100k(Measure.MURDERS)], "o", color="C0", label="Chicago 2019 (FBI Table 8)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return fig


def texas_detainers(w: Warehouse) -> Figure:
    months = texas_monthly(w)
    fig, ax = _figure(
        "Inmates held on ICE detainers in Texas county jails, by month",
        "inmates on detainers (all reporting jails)",
        f"Source: {TEXAS.cite()}. Reports end {months[-1]['month']}. A before/after difference cannot by itself "
        "separate SB 4 from other changes of the same months, such as the federal priorities of January 2017.",
        TEXAS,
    )
    ax.plot(
        [_month(m["month"]) for m in months],
        [float("nan") if m["repeats"] else m["inmates"] for m in months],
        linewidth=2,
        color="C3",
    )
    for m in months:
        if m["repeats"]:
            ax.annotate(f"{m['month']}: copy of {m['repeats']},\nleft out", (_month(m["month"]), 0.5),
                        xycoords=("data", "axes fraction"), ha="center", fontsize=8, color="#555555")  # fmt: skip
    ax.xaxis_date()
    ax.axvline(_day(SB4_EFFECTIVE), color="black", linestyle="--", linewidth=1)
    ax.annotate("SB 4 in effect\n1 Sep 2017", (_day(SB4_EFFECTIVE), 0.04), xycoords=("data", "axes fraction"),
                xytext=(-6, 0), textcoords="offset points", ha="right", fontsize=9)  # fmt: skip
    ax.set_ylim(bottom=0)
    return fig


def travis_detainers(w: Warehouse) -> Figure:
    data = travis_monthly(w)
    fig, ax = _figure(
        "ICE detainers lodged at the Travis County (TX) jail, by month",
        "detainers",
        f"Source: {TRAVIS.cite()}. {data['caveats'][0].capitalize()}; {data['caveats'][1]}.",
        TRAVIS,
    )
    months = [_month(m["month"]) for m in data["months"]]
    ax.bar(months, [m["detainers"] for m in data["months"]], width=25, label="all detainers", color="C0")
    ax.bar(months, [m["with_felony_charge"] for m in data["months"]], width=25, label="with a felony charge",
           color="C1")  # fmt: skip
    ax.xaxis_date()
    ax.legend(frameon=False)
    return fig


def chicago_murders_monthly(w: Warehouse) -> Figure:
    months = chicago_monthly(w)
    fig, ax = _figure(
        "First-degree murder records in Chicago, by month",
        "records (about one per victim)",
        f"Source: {CHICAGO.cite()}. IUCR 0110 only; the City revises records over time, so counts differ from "
        "CPD's and the FBI's. The last month of the extract is partial.",
        CHICAGO,
    )
    ax.plot([_day(m) for m, _ in months], [n for _, n in months], linewidth=1.5)
    ax.xaxis_date()
    ax.axvline(_day(SPEECH_DATE), color="black", linestyle="--", linewidth=1)
    ax.annotate("speech, 16 Aug 2017", (_day(SPEECH_DATE), 0.96), xycoords=("data", "axes fraction"), xytext=(4, 0),
                textcoords="offset points", fontsize=9)  # fmt: skip
    ax.set_ylim(bottom=0)
    return fig


def _month(text: str) -> float:
    year, month = text.split("-")
    return _day(date(int(year), int(month), 1))


def _day(day: date) -> float:
    """matplotlib's number for a day; the axis then shows it as a date (``Axes.xaxis_date``)."""
    from matplotlib.dates import date2num

    return float(date2num(day))  # type: ignore[no-untyped-call]


CHARTS: dict[str, Callable[[Warehouse], Figure]] = {
    "murders-chicago-miami-dade": murders_chicago_miami_dade,
    "texas-detainers": texas_detainers,
    "travis-detainers": travis_detainers,
    "chicago-murders-monthly": chicago_murders_monthly,
}


def render(w: Warehouse, name: str, out: Path) -> Path:
    """Write chart ``name`` to ``out``; the file's suffix (.png or .svg) chooses the format."""
    if name not in CHARTS:
        raise NotFound(f"no chart '{name}': choose one of {', '.join(CHARTS)}")
    if out.suffix.lower() not in FORMATS:
        raise InvalidInput(f"{out}: write the chart to a .png or .svg file")
    if not out.parent.is_dir():
        raise InvalidInput(f"{out}: the folder {out.parent} does not exist; create it or write elsewhere")
    figure = CHARTS[name](w)
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "custody", "svg.fonttype": "none"}):
        metadata = {"Date": None} if out.suffix.lower() == ".svg" else {"Software": None}
        try:
            figure.savefig(out, format=out.suffix.lower()[1:], metadata=metadata)
        except OSError as exc:
            raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    return out
