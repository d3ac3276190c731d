"""`custody prints …`: inspect, compare, enroll and search fingerprints."""

from __future__ import annotations

import typer

app = typer.Typer(help="Fingerprints: ANSI/NIST-ITL files, comparison, enrolment and 1:N search.", no_args_is_help=True)
