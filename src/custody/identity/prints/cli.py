"""`custody prints …`: inspect, compare, enroll and search fingerprints.

The contracts of ``inspect --json`` and ``compare --pairs`` are used by acceptance checks: stdout
carries only the JSON or CSV; reasons and progress go to stderr.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    pass

from custody.cli.output import JsonFlag, emit_json, err
from custody.cli.reads import cli_service, ids, logged_read
from custody.domain.errors import Conflict, InvalidInput
from custody.identity import biometrics
from custody.identity.prints.ansi_nist import NistFormatError, TaggedRecord, not_one_finger, read_transaction
from custody.identity.prints.compare import MatcherFactory, Workers, compare_pairs, default_workers
from custody.identity.prints.gallery import DEFAULT_SHORTLIST, DEFAULT_THRESHOLD, Gallery, GalleryError, Identity
from custody.identity.prints.images import Capture, UnreadableImage, from_record, load
from custody.identity.prints.matcher import NbisMatcher, search_matcher
from custody.identity.prints.pipeline import DEFAULT_MATCHER, MATCHERS, matcher_factory
from custody.identity.prints.templates import Template
from custody.identity.settings import gallery_path

app = typer.Typer(help="Fingerprints: ANSI/NIST-ITL files, comparison, enrolment and 1:N search.", no_args_is_help=True)

Workers_ = Annotated[
    int | None, typer.Option("--workers", min=1, help="Processes to compare with (default: every core).")
]
Engine = Annotated[
    str, typer.Option("--matcher", help="'custody' (enhanced, cylinders; default) or 'nbis' (mindtct + bozorth3).")
]


def _fail(message: str) -> typer.Exit:
    sys.stderr.write("error: " + message.replace("\n", " ") + "\n")
    return typer.Exit(2)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An ANSI/NIST-ITL transaction (traditional encoding).")],
    as_json: JsonFlag = False,
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
    pairs: Annotated[
        Path,
        typer.Option(
            "--pairs", help="CSV with header 'probe,reference': image paths, relative ones from the current directory."
        ),
    ],
    workers: Workers_ = None,
    engine: Engine = DEFAULT_MATCHER,
) -> None:
    """Score every pair: CSV 'probe,reference,score' on stdout, higher = more similar.

    An unreadable or unusable image gives an empty score (a non-match) and its reason on stderr.
    """
    try:
        with pairs.open(newline="", encoding="utf-8-sig") as handle:  # a spreadsheet may start with a BOM
            reader = csv.reader(handle)
            header = next(reader, [])
            # "Probe, Reference" is the same header to whoever wrote it: names are matched without
            # case or surrounding spaces, in any column; the paths themselves are kept exactly.
            names = [name.strip().lower() for name in header]
            if not {"probe", "reference"} <= set(names):
                raise _fail(f"{pairs}: the header must be 'probe,reference' (found '{','.join(header) or 'nothing'}')")
            probe, reference = names.index("probe"), names.index("reference")
            rows = [(_cell(row, probe), _cell(row, reference)) for row in reader if row]
    except OSError as exc:
        raise _fail(f"{pairs}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise _fail(f"{pairs} is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None
    except csv.Error as exc:  # a cell over the reader's limit (found by a review: exit 1)
        where = f"{pairs}, line {reader.line_num}"
        raise _fail(
            f"{where}: not CSV custody reads ({exc}); write a probe,reference pair of image paths a line"
        ) from None
    factory = _factory(engine)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["probe", "reference", "score"])
    err.print(f"comparing {len(rows)} pairs with {engine}")
    for result in compare_pairs(rows, factory, workers=workers):
        if result.problem:
            sys.stderr.write(f"{result.probe},{result.reference}: {result.problem}\n")
        writer.writerow([result.probe, result.reference, "" if result.score is None else f"{result.score:g}"])


def _cell(row: list[str], column: int) -> str:
    """A short row's missing cell is an empty path: that pair gets an empty score, not an error."""
    return row[column] if column < len(row) else ""


def _factory(engine: str) -> MatcherFactory:
    try:
        return matcher_factory(engine)
    except KeyError:
        raise _fail(f"--matcher {engine}: choose one of {', '.join(sorted(MATCHERS))}") from None


GalleryPath = Annotated[
    Path | None,
    typer.Option(
        "--gallery",
        help="Directory of the federal repository's gallery (default: $CUSTODY_GALLERY, else $CUSTODY_VAR/gallery, "
        "the one a booking's prints are searched in).",
        show_default=False,
    ),
]
Source = Annotated[
    Path | None, typer.Argument(help="An ANSI/NIST-ITL transaction whose finger records are used.", show_default=False)
]
Fingers = Annotated[
    list[str] | None, typer.Option("--finger", help="POSITION=PATH, e.g. 2=right_index.png (repeatable).")
]


@app.command()
def enroll(
    source: Source = None,
    finger: Fingers = None,
    identity_id: Annotated[str, typer.Option("--id", help="The repository's identifier for this person.")] = "",
    name: Annotated[
        list[str] | None,
        typer.Option("--name", help="Name (repeatable; the first is primary); needed unless SOURCE's Type-2 has one."),
    ] = None,
    alias: Annotated[list[str] | None, typer.Option("--alias", help="Alias (repeatable).")] = None,
    record: Annotated[str, typer.Option("--record", help="The repository's record as a JSON object.")] = "{}",
    gallery: GalleryPath = None,
    workers: Workers_ = None,
    as_json: JsonFlag = False,
) -> None:
    """Enrol an identity: its prints per finger position, names, aliases and record."""
    try:
        document = json.loads(record)
    except ValueError as exc:
        raise _fail(f"--record: not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _fail('--record: give a JSON object, e.g. \'{"fbi": "123"}\'')
    captures, names = _captures(source, finger or [])
    names = list(name or []) or names
    if not identity_id:
        raise _fail("--id: give the repository's identifier for this person")
    if not names:
        raise _fail("--name: give at least one name (or a transaction with field 2.018)")
    gallery = gallery or gallery_path()
    templates, refused = _extract(captures, workers)
    if not templates:  # refused before the gallery is created for it
        raise _fail("no usable finger to enrol: " + "; ".join(str(r["reason"]) for r in refused))
    service = cli_service()  # opened first: nothing waits on the store while the gallery is held

    def enrol() -> dict[str, Any]:
        # The gallery is held alone from reading to saving, as by every enrolment (a server's made
        # meanwhile was saved over), and let go before the store is written: a server keeping a
        # booking's prints holds the store while it waits for the gallery (found by reviews).
        with biometrics.changing(gallery, create=True) as store:
            assert store is not None  # created when there was none
            if identity_id in store:
                raise Conflict(f"identity {identity_id} is already enrolled in {gallery}")
            store.enrol(Identity(identity_id, tuple(names), tuple(alias or []), document), templates)
            store.save()
            return {
                "identity": store.identity(len(store) - 1).document(),
                "refused": refused,
                "gallery_size": len(store),
            }

    try:
        # the identity's names and record go into the repository and back to the screen: logged first
        result = logged_read(
            service,
            "prints enroll",
            enrol,
            lambda _: {"identities": identity_id},
            options={"gallery": gallery, "fingers": ",".join(map(str, sorted(templates)))},
        )
    except GalleryError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        emit_json(result)
    else:
        fingers, size = ", ".join(map(str, templates)), result["gallery_size"]
        sys.stdout.write(f"enrolled {identity_id} with fingers {fingers} ({size} in gallery)\n")


@app.command()
def search(
    source: Source = None,
    finger: Fingers = None,
    gallery: GalleryPath = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Fused score at which a candidate is a hit.")] = (
        DEFAULT_THRESHOLD
    ),
    confirmation: Annotated[
        bool,
        typer.Option("--confirmation/--no-confirmation", help="Hits wait for an examiner's confirmation."),
    ] = True,
    shortlist: Annotated[
        int, typer.Option("--shortlist", help="Identities compared after the pre-filter; 0 compares all.")
    ] = DEFAULT_SHORTLIST,
    top: Annotated[int, typer.Option("--top", help="Candidates returned.")] = 10,
    workers: Workers_ = None,
    as_json: JsonFlag = False,
) -> None:
    """Search prints against the gallery: ranked candidates with fused scores and a decision."""
    if top < 1:  # none returned would read as "no hit" whatever the gallery holds (found by a review)
        raise _fail(f"--top {top}: give how many candidates to return, 1 or more")
    captures, _names = _captures(source, finger or [])
    try:
        gallery = gallery or gallery_path()
        store = Gallery.open(gallery)
    except GalleryError as exc:
        raise _fail(str(exc)) from None
    with Workers(search_matcher, workers or default_workers()) as pool:
        templates, refused = _extract_with(pool, captures)
        if not templates:
            raise _fail("no usable finger to search with: " + "; ".join(str(r["reason"]) for r in refused))
        err.print(f"searching {len(store)} identities with fingers {sorted(templates)}")
        # the candidates' names and records are personal data: the read is logged before they print
        try:
            result = logged_read(
                cli_service(),
                "prints search",
                lambda: store.search(
                    templates,
                    pool.compare_records,
                    threshold=threshold,
                    confirmation=confirmation,
                    shortlist=shortlist or None,
                    top=top,
                ),
                lambda found: {"identities": ids([c.identity.document() for c in found.candidates])},
                options={"gallery": gallery, "fingers": ",".join(map(str, sorted(templates))), "top": top},
            )
        except GalleryError as exc:  # its records are read only now (found by a review: exit 1)
            raise _fail(str(exc)) from None
    if as_json:
        emit_json({**result.document(), "refused": refused})
        return
    sys.stdout.write(f"{result.decision} ({result.compared} of {result.gallery_size} identities compared)\n")
    for c in result.candidates:
        sys.stdout.write(f"  {c.score:8.1f}  {c.identity.id}  {'; '.join(c.identity.names)}  [{c.status}]\n")


def _captures(source: Path | None, fingers: list[str]) -> tuple[list[tuple[int, Capture | str, str]], list[str]]:
    """(position, capture or reason, name) per finger, and the names a transaction records."""
    out: list[tuple[int, Capture | str, str]] = []
    names: list[str] = []
    if source is not None:
        try:
            transaction = read_transaction(source.read_bytes())
        except OSError as exc:
            raise _fail(f"{source}: {exc.strerror or exc}") from None
        except NistFormatError as exc:
            raise _fail(f"{source}: {exc}") from None
        names = [r.text(18) for r in transaction.records if isinstance(r, TaggedRecord) and r.type == 2 and r.text(18)]
        for f in transaction.fingers():
            where = f"{source} Type-{f.record_type} IDC {f.idc}"
            if problem := not_one_finger(f.position):
                out.append((f.position, f"{where}: {problem}", where))
                continue
            try:
                out.append((f.position, from_record(f), where))
            except UnreadableImage as exc:
                out.append((f.position, str(exc), where))
    for position, path in finger_files("--finger", fingers):
        try:
            out.append((position, load(Path(path)), path))
        except UnreadableImage as exc:
            out.append((position, str(exc), path))
    if not out:
        raise _fail("no prints given: name a transaction or use --finger POSITION=PATH")
    return out, names


def finger_files(option: str, specs: Sequence[str]) -> list[tuple[int, str]]:
    """(position, path) of each POSITION=PATH option, as `custody book --print` and `custody prints
    search --finger` take them. The position is ASCII digits: ``str.isdigit`` also takes '²', which
    ``int`` then refuses (found by a review: a crash, exit 1). A finger given twice is refused: which
    image was meant is unknown (found by a review: the second replaced the first without a word)."""
    files: list[tuple[int, str]] = []
    for spec in specs:
        position, _, path = spec.partition("=")
        if not (position.isascii() and position.isdigit() and path):
            raise InvalidInput(f"{option} {spec}: write POSITION=PATH, e.g. {option} 2=right_index.png")
        if problem := not_one_finger(int(position)):
            raise InvalidInput(f"{option} {spec}: {problem}")
        if int(position) in dict(files):
            raise InvalidInput(f"{option} {spec}: finger position {int(position)} given twice; give one image a finger")
        files.append((int(position), path))
    return files


def _extract(
    captures: list[tuple[int, Capture | str, str]], workers: int | None
) -> tuple[dict[int, Template], list[dict[str, object]]]:
    with Workers(NbisMatcher, min(workers or default_workers(), len(captures))) as pool:
        return _extract_with(pool, captures)


def _extract_with(
    pool: Workers, captures: list[tuple[int, Capture | str, str]]
) -> tuple[dict[int, Template], list[dict[str, object]]]:
    """The best-quality usable template per finger position, and every capture not used with its
    reason: refused, or set aside for another image of the same finger with more minutiae (a
    transaction may hold a rolled and a plain impression of one finger)."""
    readable = [(p, c, n) for p, c, n in captures if isinstance(c, Capture)]
    refused: list[dict[str, object]] = [
        {"position": p, "source": n, "reason": c} for p, c, n in captures if isinstance(c, str)
    ]
    templates, unusable, set_aside = pool.templates_by_finger(
        readable, replaces=lambda new, kept: len(new.minutiae) > len(kept.minutiae)
    )
    others = [
        (position, name, f"another image of finger {position} has more minutiae and was used: {used}")
        for position, name, used in set_aside
    ]
    for position, name, reason in unusable + others:
        refused.append({"position": position, "source": name, "reason": reason})
        sys.stderr.write(reason + "\n")
    return templates, refused
