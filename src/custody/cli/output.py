"""Output helpers: JSON only on stdout for --json, everything else for people via Rich on stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)  # a message is one line, whatever the terminal's width
out = Console()

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON only on stdout.")]


def emit_json(value: Any, one_line: bool = False) -> None:
    """``value`` as JSON on stdout, indented for reading, or on one line for a machine to take the last."""
    sys.stdout.write(json.dumps(value, indent=None if one_line else 2, ensure_ascii=False, default=str) + "\n")
