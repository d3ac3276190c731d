"""`custody stats …`: imports, measures, claims and charts.

Every command with ``--json`` prints only JSON on stdout; loading progress and messages go to stderr,
so output can be piped into other tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import DownloadColumn

from custody.cli.output import JsonFlag, cell, emit_json, err, out, output_table, progress_bars
from custody.domain.clock import parse_day
from custody.stats import charts, claims, crime, detainers
from custody.stats.datasets import DATASETS, dataset
from custody.stats.published import PUBLISHED
from custody.stats.warehouse import Warehouse

app = typer.Typer(help="Statistics: public crime and detainer data, measures, claims, charts.", no_args_is_help=True)
Ori = Annotated[str, typer.Option("--agency-ori", help="The agency's ORI, e.g. ILCPD00 (`custody stats agencies`).")]
Year = Annotated[int, typer.Option("--year", help="Calendar year: 1975–2015 (UCR), or 2019 for cities in FBI Table 8.")]


@contextmanager
def _warehouse() -> Iterator[Warehouse]:
    """The statistics store, with a progress bar on stderr while a data set is checked and loaded."""
    with progress_bars(DownloadColumn()) as report:
        w = Warehouse.open(report)
        try:
            yield w
        finally:
            w.close()


def _emit(value: Any, as_json: bool, title: str) -> None:
    if as_json:
        emit_json(value)
        return
    if isinstance(value, list) and not value:
        out.print(f"{title}: none")  # found by a review: an empty list was read as a record, and failed
        return
    rows = value if isinstance(value, list) else None
    if rows:
        table = output_table(title, list(rows[0]))
        for row in rows:
            table.add_row(*(cell(v) for v in row.values()))
    else:
        table = output_table(title, ("field", "value"), show_header=False)
        for key, item in value.items():
            table.add_row(key, cell(item))
    out.print(table)


@app.command("datasets")
def list_datasets(as_json: JsonFlag = False) -> None:
    """The data sets custody knows: source, licence, checksum, and whether each is shipped or loaded."""
    with _warehouse() as w:
        loaded = {record.key: record for record in w.loaded()}
    rows = [
        {
            "key": d.key,
            "title": d.title,
            "shipped": not d.import_only,
            "loaded_from": loaded[d.key].path if d.key in loaded else None,
            "sha256": d.sha256,
            "source": d.source,
            "licence": d.licence,
            "retrieved": d.retrieved,
        }
        for d in DATASETS.values()
    ]
    _emit({"datasets": rows} if as_json else rows, as_json, "Data sets")


@app.command("import")
def import_dataset(
    kind: Annotated[str, typer.Argument(help=f"Which data set: {', '.join(DATASETS)}.")],
    path: Annotated[Path, typer.Argument(help="The CSV file, as published by its source.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a data set the project may not ship (checksum and columns) and load it, recording where it came from."""
    ds = dataset(kind)
    with _warehouse() as w:
        record = w.load(ds, path)
    _emit(asdict(record), as_json, f"Imported {ds.key}")


@app.command()
def agencies(as_json: JsonFlag = False) -> None:
    """The police agencies in the UCR file, with their ORI and years."""
    with _warehouse() as w:
        rows = crime.agencies(w)
    _emit({"agencies": rows} if as_json else rows, as_json, "Agencies (UCR 1975–2015)")


@app.command()
def murders(ori: Ori, year: Year, as_json: JsonFlag = False) -> None:
    """Murders, population and murders per 100,000 for one agency and year, with the data's caveats."""
    with _warehouse() as w:
        _emit(crime.measure(w, ori, year, crime.Measure.MURDERS), as_json, f"Murders, {ori} {year}")


@app.command()
def violent(ori: Ori, year: Year, as_json: JsonFlag = False) -> None:
    """Violent crimes (murder, rape, robbery, aggravated assault) and the rate per 100,000 for one agency and year."""
    with _warehouse() as w:
        _emit(crime.measure(w, ori, year, crime.Measure.VIOLENT), as_json, f"Violent crime, {ori} {year}")


@app.command()
def change(
    ori: Ori,
    year: Year,
    measure: Annotated[crime.Measure, typer.Option(help="What to compare.")] = crime.Measure.MURDERS,
    as_json: JsonFlag = False,
) -> None:
    """Change from the year before to YEAR, in count and rate, with both years' coverage caveats."""
    with _warehouse() as w:
        _emit(crime.change(w, ori, year, measure), as_json, f"Change in {measure.value}, {ori} {year - 1}→{year}")


@app.command("chicago-murders")
def chicago_murders(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")] = "2017-01-01",
    end: Annotated[str, typer.Option("--to", help="Last day, inclusive (YYYY-MM-DD).")] = "2017-08-16",
    as_json: JsonFlag = False,
) -> None:
    """First-degree murder records in the City of Chicago's data between two dates."""
    with _warehouse() as w:
        count = crime.chicago_murders(w, parse_day(start, "--from"), parse_day(end, "--to"))
    _emit(count.as_dict(), as_json, "Chicago first-degree murder records")


@app.command("texas-detainers")
def texas_detainers(
    county: Annotated[str | None, typer.Option(help="One county, e.g. Harris; default all reporting jails.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Inmates held on ICE detainers in Texas jails by month, before and after SB 4 took effect (1 Sep 2017)."""
    with _warehouse() as w:
        summary = detainers.texas_around_sb4(w, county)
    if as_json:
        _emit(summary, True, "")
        return
    _emit({k: v for k, v in summary.items() if k != "months"}, False, "Texas jails: ICE detainers around SB 4")
    _emit(summary["months"], False, "By month")


@app.command("travis-detainers")
def travis_detainers(as_json: JsonFlag = False) -> None:
    """ICE detainers lodged at the Travis County jail, by year and month, 2006–2016."""
    with _warehouse() as w:
        data = detainers.travis_monthly(w)
    if as_json:
        _emit(data, True, "")
        return
    _emit(data["by_year"], False, "Travis County: ICE detainers by year")
    err.print("\n".join(f"note: {c}" for c in data["caveats"]))


@app.command("claims")
def list_claims(as_json: JsonFlag = False) -> None:
    """The seed article's factual claims, each with the data's figure, its source and a verdict."""
    with _warehouse() as w:
        checked = claims.check_claims(w)
    if as_json:
        _emit({"claims": [c.as_dict() for c in checked]}, True, "")
        return
    for number, c in enumerate(checked, start=1):
        out.print(f"[bold]{number}. {c.claim}[/bold]  [{_colour(c.verdict)}]{c.verdict.value}[/]")
        out.print(f"   quote:  “{c.quote}”", highlight=False)
        out.print(f"   figure: {c.figure}", highlight=False)
        out.print(f"   why:    {c.why}", highlight=False)
        out.print(f"   source: {c.source}\n", highlight=False, style="dim")
    out.print(claims.COMPARISON_NOTE, highlight=False)


def _colour(verdict: claims.Verdict) -> str:
    return {"supported": "green", "not supported": "red", "partly supported": "yellow"}.get(verdict.value, "blue")


@app.command("published")
def published_figures(as_json: JsonFlag = False) -> None:
    """Published figures that no shipped file holds, each with its source and tag (V seen, M not checked)."""
    rows = [p.as_dict() for p in PUBLISHED]
    _emit({"published": rows} if as_json else rows, as_json, "Published figures")


@app.command()
def chart(
    name: Annotated[str, typer.Argument(help=f"Which chart: {', '.join(charts.CHARTS)}.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write it: a .png or .svg file.")],
) -> None:
    """Draw a chart of a measure to a PNG or SVG file."""
    with _warehouse() as w:
        written = charts.render(w, name, out)
    err.print(f"wrote {written}")


@app.command("outcomes")
def process_outcomes(
    agency: Annotated[str | None, typer.Option(help="One agency's division id; default every agency.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Outcomes of custody's own process: requests received, honored, declined, lapsed; releases; re-bookings."""
    from custody.service import Custody
    from custody.stats.outcomes import outcomes

    service = Custody.open(actor="stats")
    with service.unit() as unit:
        result = outcomes(unit.session, agency)
    if as_json:
        _emit(result, True, "")
        return
    _emit({k: v for k, v in result.items() if k != "caveats"}, False, "Outcomes of custody's process")
    err.print("\n".join(f"note: {c}" for c in result["caveats"]))


@app.command("policy")
def policy(as_json: JsonFlag = False) -> None:
    """Each jurisdiction's instruments over time and what their general rules say about hold, notify, transfer."""
    from custody.law.loader import default_library
    from custody.stats.policy import policy_timeline

    rows = policy_timeline(default_library())
    shown = {"policy": rows} if as_json else [{k: v for k, v in r.items() if k != "division"} for r in rows]
    _emit(shown, as_json, "Policy over time (each instrument's own rules; `custody law decide` combines the layers)")


@app.command("agreements-287g")
def agreements_287g(
    state: Annotated[str | None, typer.Option(help="State name as the list writes it, e.g. TEXAS.")] = None,
    on: Annotated[str | None, typer.Option(help="Only agreements in force on this date (YYYY-MM-DD).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """287(g) agreements by county, from the list imported with `custody stats import policy-287g PATH`."""
    from custody.stats.agreements import by_county

    with _warehouse() as w:
        result = by_county(w, state, parse_day(on, "--on") if on else None)
    if as_json:
        _emit(result, True, "")
        return
    _emit(result["counties"], False, f"287(g) agreements by county ({result['agreements']} in all)")
    err.print("\n".join(f"note: {c}" for c in result["caveats"]))


@app.command("grants")
def grants(
    fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Grant fiscal year.")] = 2017,
    on: Annotated[str | None, typer.Option(help="Date to check (default: the conditions' announcement).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Byrne JAG conditions met or in conflict, per jurisdiction custody has law for."""
    from custody.law.loader import default_library
    from custody.stats.grants import by_jurisdiction

    rows = by_jurisdiction(default_library(), fiscal_year, parse_day(on, "--on") if on else None)
    _emit(
        {"jurisdictions": rows} if as_json else rows, as_json, f"FY{fiscal_year} Byrne JAG conditions by jurisdiction"
    )
