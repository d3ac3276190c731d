"""Output helpers: JSON only on stdout for --json, everything else for people via Rich on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskID, TextColumn
from rich.table import Table

err = Console(stderr=True, soft_wrap=True)  # a message is one line, whatever the terminal's width
# Piped or redirected, Rich would lay tables out for 80 columns; a file has no width to fit.
out = Console(width=None if sys.stdout.isatty() else 200)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON only on stdout.")]


def emit_json(value: Any, one_line: bool = False) -> None:
    """``value`` as JSON on stdout, indented for reading, or on one line for a machine to take the last.
    Always UTF-8, as JSON is, whatever the locale's encoding (found by a review: under a Latin-1
    locale a citation's dash failed the command)."""
    text = json.dumps(value, indent=None if one_line else 2, ensure_ascii=False, default=str) + "\n"
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    binary.write(text.encode("utf-8"))
    binary.flush()


@contextmanager
def progress_bars(amount: ProgressColumn) -> Iterator[Callable[[str, int, int], None]]:
    """A report(label, done, total) that draws one bar a label on stderr while the block runs, with
    ``amount`` saying how much is done (bytes, values...)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), amount, console=err, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def report(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done)

        yield report


def output_table(title: str, columns: Sequence[str] = (), **options: Any) -> Table:
    """A table whose cells are never cut short: an id shown as "bkg_1a24fa845…" cannot be pasted
    into the next command, so a value too long for its column folds onto the next line instead."""
    shown = Table(title=title, **options)
    for column in columns:
        shown.add_column(column, overflow="fold")
    return shown


def cell(value: Any, counts: bool = False) -> str:
    """A value as a person reads it in a table: no Python brackets or quotes (``{'received': 1}``
    reads "received 1"), nothing for None. A list of records shows how many there are; ``--json``
    gives them whole. With ``counts``, numbers are counts, hours and dollars: thousands separated,
    at most two decimals (not for years or codes, which other tables hold)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {cell(v, counts)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], dict):
            return f"{len(value)}"
        return "\n".join(cell(v, counts) for v in value)
    if counts and isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")  # 637.15, 12.3, 100
    if counts and isinstance(value, int):
        return f"{value:,}"
    return str(value)
