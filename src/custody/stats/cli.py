"""`custody stats …`: imports, measures, claims and charts."""

from __future__ import annotations

import typer

app = typer.Typer(help="Statistics: public crime and detainer data, measures, claims, charts.", no_args_is_help=True)
