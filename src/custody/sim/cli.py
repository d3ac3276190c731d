"""`custody simulate …` and `custody bench …`: the national-scale simulator and end-to-end benchmarks."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks of the whole process against a raw baseline.", no_args_is_help=True)


def simulate() -> None:
    """Simulate bookings through the whole exchange (being built: issue 8)."""
    raise typer.Exit(2)
