"""`custody prints …`: inspect, compare, enroll and search fingerprints.

The contracts of ``inspect --json`` and ``compare --pairs`` are used by acceptance checks: stdout
carries only the JSON or CSV; reasons and progress go to stderr.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from custody.cli.output import emit_json, err
from custody.identity.prints.ansi_nist import NistFormatError, read_transaction
from custody.identity.prints.compare import MatcherFactory, compare_pairs
from custody.identity.prints.pipeline import matcher_factory

app = typer.Typer(help="Fingerprints: ANSI/NIST-ITL files, comparison, enrolment and 1:N search.", no_args_is_help=True)

Workers = Annotated[int | None, typer.Option("--workers", help="Processes to compare with (default: every core).")]
Engine = Annotated[str, typer.Option("--matcher", help="'nbis' (plain NBIS, default) or 'custody' (experimental).")]


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    return typer.Exit(2)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An ANSI/NIST-ITL transaction (traditional encoding).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only on stdout.")] = False,
) -> None:
    """List every record of a transaction and every finger image in it."""
    try:
        transaction = read_transaction(file.read_bytes())
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror or exc}") from None
    except NistFormatError as exc:
        raise _fail(f"{file}: {exc}") from None
    summary = transaction.summary()
    if as_json:
        emit_json(summary)
        return
    sys.stdout.write(f"ANSI/NIST-ITL version {transaction.version}, {len(transaction.records)} records\n")
    for record in transaction.records:
        sys.stdout.write(f"  Type-{record.type:<2} IDC {record.idc}\n")
    for f in transaction.fingers():
        sys.stdout.write(
            f"  finger position {f.position}: Type-{f.record_type} IDC {f.idc}, "
            f"{f.width}×{f.height} px at {f.ppi} ppi, {f.compression}\n"
        )


@app.command()
def compare(
    pairs: Annotated[Path, typer.Option("--pairs", help="CSV with header 'probe,reference' (image paths).")],
    workers: Workers = None,
    engine: Engine = "nbis",
) -> None:
    """Score every pair: CSV 'probe,reference,score' on stdout, higher = more similar.

    An unreadable or unusable image gives an empty score (a non-match) and its reason on stderr.
    """
    try:
        with pairs.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"probe", "reference"} <= set(reader.fieldnames):
                raise _fail(f"{pairs}: the header must be 'probe,reference'")
            rows = [(row["probe"] or "", row["reference"] or "") for row in reader]
    except OSError as exc:
        raise _fail(f"{pairs}: {exc.strerror or exc}") from None
    factory = _factory(engine)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["probe", "reference", "score"])
    err.print(f"comparing {len(rows)} pairs with {engine}")
    for result in compare_pairs(rows, factory, workers=workers):
        if result.problem:
            sys.stderr.write(f"{result.probe},{result.reference}: {result.problem}\n")
        writer.writerow([result.probe, result.reference, "" if result.score is None else f"{result.score:g}"])


def _factory(engine: str) -> MatcherFactory:
    try:
        return matcher_factory(engine)
    except KeyError:
        raise _fail(f"--matcher {engine}: choose 'custody' or 'nbis'") from None
