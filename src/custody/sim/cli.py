"""`custody simulate …` and `custody bench …`: the national-scale simulator and end-to-end benchmarks.

Progress bars and notes go to stderr; the report (or, with --json, only JSON) to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from custody.cli.output import JsonFlag, cell, emit_json, err, out
from custody.domain.errors import InvalidInput
from custody.law.model import Status
from custody.sim.engine import Progress as ProgressCallback

bench_app = typer.Typer(help="Benchmarks of the whole process against a raw baseline.", no_args_is_help=True)


@contextmanager
def _progress(days: int) -> Iterator[ProgressCallback]:
    """The runs' bars on stderr, drawn from the first move on: a run refused before it moves leaves
    stderr its one line of error (a display started at once left a blank line before it)."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    run = {"label": "baseline"}
    tasks: dict[str, TaskID] = {}

    def task() -> TaskID:
        """The bar of the run going on, made when it first moves (a refused run draws none)."""
        if not tasks:
            progress.start()
        if run["label"] not in tasks:
            tasks[run["label"]] = progress.add_task(f"simulated days ({run['label']})", total=days, note="")
        return tasks[run["label"]]

    def report(what: str, n: int) -> None:
        if what == "reform":
            run["label"] = "reform"
        elif what == "day":
            progress.update(task(), completed=n)
        elif what == "booking":
            progress.update(task(), note=f"{n:,} bookings")
        elif what == "nothing to resume":
            which = "reform run" if run["label"] == "reform" else "run"
            progress.console.print(
                f"[yellow]--resume: no stopped {which} of this seed in its store; starting at the beginning[/yellow]"
            )

    try:
        yield report
    finally:
        if tasks:
            progress.stop()


def simulate(
    days: Annotated[int, typer.Option("--days", help="How many days to simulate.")] = 1,
    scale: Annotated[
        str,
        typer.Option("--scale", help="national, state:XX (e.g. state:il) or division:OCD_ID (one agency)."),
    ] = "national",
    store: Annotated[
        str, typer.Option("--store", help="sqlite (var/custody.db) or postgres (CUSTODY_DATABASE_URL).")
    ] = "sqlite",
    transport: Annotated[
        str, typer.Option("--transport", help="inproc, or nats (JetStream at CUSTODY_NATS_URL).")
    ] = "inproc",
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same arrests and outcomes.")] = 1,
    start: Annotated[str, typer.Option("--start", help="First simulated day (YYYY-MM-DD).")] = "2019-10-01",
    sample: Annotated[
        float | None,
        typer.Option("--sample", help="Share of synthetic agencies kept (default 0.1 national, 1 otherwise)."),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="The store's URL, overriding --store's default.")] = None,
    reform: Annotated[
        str | None,
        typer.Option(
            "--reform",
            help="DIVISION=LAW_OF_OTHER_DIVISION@DATE: the same arrests again, DIVISION under that law; side by side.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Carry on a run that was stopped (killed, machine down) from its last commit, in the same store with "
            "the same options; a finished run prints its report again.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Simulate synthetic arrests through the whole exchange under the library's law, and report the outcomes.

    Each batch the simulator commits carries its own state (the journal), so a run that dies loses
    nothing: run the same command again with --resume."""
    from custody.sim.reform import Reform
    from custody.sim.run import Options
    from custody.sim.run import simulate as run_simulation

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise InvalidInput(f"--start {start}: write a date as YYYY-MM-DD") from None
    options = Options(
        days=days,
        scale=scale,
        store=store,
        transport=transport,
        seed=seed,
        start=first,
        sample=sample,
        url=url,
        reform=Reform.parse(reform) if reform else None,
        resume=resume,
    )
    try:
        with _progress(days) as progress:
            result = run_simulation(options, progress)
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted: what the simulation committed is kept; run the same command with --resume to "
            "carry it on from there[/yellow]"
        )
        raise typer.Exit(130) from None
    if as_json:
        emit_json(result)
        return
    _print_report(result)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    """Columns are every key of every row, in order of first appearance, and each value goes under its
    own key (a row without a key leaves its cell blank): the first row's keys used to name every
    column, so an action without a 'permitted' decision showed its counts under other headings."""
    table = Table(title=title, title_justify="left")
    keys = list(dict.fromkeys(key for row in rows for key in row))
    for number, key in enumerate(keys):
        table.add_column(key.replace("_", " "), justify="left" if number == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(cell(row[key], counts=True) if key in row else "" for key in keys))
    return table


def _print_report(result: dict[str, Any]) -> None:
    o, s = result["outcomes"], result["simulator"]
    out.print(
        f"[bold]Simulated {result['days']} day(s) from {result['start']}, {result['scale']}, "
        f"seed {result['seed']}[/bold] "
        f"({result['store']}, {result['transport']})"
    )
    out.print(f"Agencies: {result['agencies']}.", highlight=False)
    if result["resume"]:
        out.print(f"Resumed: {result['resume']}.", highlight=False)
    out.print(
        _table(
            "Outcomes of the process",
            [
                {"measure": "bookings (of which re-bookings)", "count": f"{o['bookings']:,} ({o['rebookings']:,})"},
                {"measure": "federal requests issued", "count": f"{s['requests_issued']:,}"},
                {
                    # Not a part of those issued, so not in brackets as the subsets on the other rows are.
                    "measure": "federal requests not issued: the person released before the federal side asked",
                    "count": f"{s['requests_not_reached']:,}",
                },
                {
                    "measure": "requests honored / declined (any action)",
                    "count": f"{o['requests_honored']:,} / {o['requests_declined']:,}",
                },
                {
                    "measure": "  declined as undetermined (the state's law not encoded, or facts missing)",
                    "count": f"{o['requests_declined_undetermined']:,}",
                },
                {"measure": "holds started / lapsed", "count": f"{o['holds']:,} / {o['lapses']:,}"},
                {
                    "measure": "hold-hours (jail cost, USD)",
                    "count": f"{o['hold_hours']:,.1f} ({o['hold_cost_usd']:,.0f})",
                },
                {"measure": "transfers to federal custody", "count": f"{o['transfers']:,}"},
                {"measure": "moves lockup → county jail", "count": f"{s['moves_to_county_jail']:,}"},
                {
                    "measure": "releases (with a request in force)",
                    "count": f"{o['releases']:,} ({o['releases_with_active_request']:,})",
                },
                {"measure": "still in custody at the end", "count": f"{s['in_custody_at_end']:,}"},
            ],
        )
    )
    statuses = [st.value for st in Status if any(st.value in v for v in o["decision_status"].values())]
    status_rows = [{"action": a, **{st: v.get(st, 0) for st in statuses}} for a, v in o["decision_status"].items()]
    if status_rows:
        out.print(_table("Law decisions by status (each request's final decision)", status_rows))
    on = result["policy_on"]
    if result["by_policy"]:
        out.print(
            _table(f"By jurisdiction policy on {on} (what its law says of a plain detainer hold)", result["by_policy"])
        )
    if result["policy_changes"]:
        out.print(
            _table(
                f"Policy changes within the run (the rows above group each agency's bookings by its policy on {on})",
                result["policy_changes"],
            )
        )
    _print_refusals(s)
    if "reform" in result:
        r = result["reform"]
        out.print(f"\n[bold]Reform: {r['reform']}[/bold]")
        if r["resume"]:
            out.print(f"Resumed: {r['resume']}.", highlight=False)
        out.print(
            f"Policy: {r['division_policy']['baseline']} → {r['division_policy']['reform']}. {r['how']}.",
            highlight=False,
        )
        out.print(_table("Same arrests, side by side (bookings at or moved to the division)", r["compared"]))
        if "note" in r:
            out.print(f"[yellow]{r['note']}[/yellow]")
        _print_refusals(r["simulator"], " in the reform run")
    out.print(f"[italic]{result['caveat']}[/italic]")
    out.print(f"[italic]{result['rebookings_caveat']}[/italic]")
    tagged = result["rate_tags"]
    out.print(
        f"Rates and their sources: {tagged['V']} seen in their source [V], {tagged['M']} recalled or secondary [M], "
        f"{tagged['A']} assumptions with no source [A]; --json prints each (key 'rates'); see "
        "src/custody/sim/calibration.py.",
        highlight=False,
    )


def _print_refusals(tally: dict[str, Any], run: str = "") -> None:
    """What the process refused in a run: a person refused at booking or a move drops out of the
    counts, so a reform's refusals must show as the baseline's do."""
    if tally["errors"]:
        out.print(f"[red]refused by the process{run}: {tally['errors']} first: {tally['first_errors']}[/red]")


@bench_app.command("e2e")
def bench_e2e(
    bookings: Annotated[
        int, typer.Option("--bookings", help="How many bookings to run through the whole process.")
    ] = 2000,
    as_json: Annotated[
        bool, typer.Option("--json", help="Only JSON on stdout: the figures as one JSON object, on one line.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    store: Annotated[
        str, typer.Option("--store", help="sqlite, or postgres (a new schema, dropped after).")
    ] = "sqlite",
    transport: Annotated[str, typer.Option("--transport", help="inproc, or nats (JetStream).")] = "inproc",
    workers: Annotated[
        int, typer.Option("--workers", help="0: apply messages in this process; N: N `custody worker` per side.")
    ] = 0,
    gallery: Annotated[
        int,
        typer.Option(
            "--gallery",
            help="Identities in the print gallery whose search is measured beside the process (0: skip it).",
        ),
    ] = 1000,
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat",
            help="Run the process and its baseline this many times, each on fresh stores; report the medians.",
        ),
    ] = 1,
) -> None:
    """End-to-end bookings/s beside the raw-store baseline (default: the embedded SQLite store, in-process).

    The last line on stdout (with --json, the only one) is a JSON object with at least bookings_per_s,
    baseline_rows_per_s, baseline_bookings_per_s and ratio: bookings_per_s / baseline_bookings_per_s,
    the process against plain batched inserts of the very rows it wrote, measured in the same run.
    """
    from custody.sim.bench import run_e2e

    if store not in ("sqlite", "postgres"):
        raise typer.BadParameter("use sqlite or postgres", param_hint="--store")
    if transport not in ("inproc", "nats"):
        raise typer.BadParameter("use inproc or nats", param_hint="--transport")
    if gallery < 0:
        raise typer.BadParameter("0 or more identities", param_hint="--gallery")
    if repeat < 1:
        raise typer.BadParameter("1 or more passes", param_hint="--repeat")
    figures = run_e2e(
        bookings, seed, err, store=store, transport=transport, workers=workers, gallery=gallery, repeat=repeat
    )
    if as_json:
        emit_json(figures, one_line=True)
        return
    out.print(_table("custody bench e2e", [{"figure": k, "value": v} for k, v in figures.items()]))
