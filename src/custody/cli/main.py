"""custody's command line. Every command that changes something runs in one transaction; a refusal
prints one line saying what to do and exits 2, leaving the store unchanged."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import OperationalError

from custody.audit.access import command_line_operator
from custody.booking.commands import BookingIn, MoveIn, ScheduleIn
from custody.booking.service import CLOCK_SKEW, FingerprintImage
from custody.cli.output import JsonFlag, cell, emit_json, err, out, output_table, progress_bars
from custody.cli.reads import cli_service, ids, logged_read
from custody.domain.clock import parse_day, parse_time
from custody.domain.divisions import parse_division
from custody.domain.errors import CustodyError, InvalidInput, StoreUnavailable
from custody.domain.inputs import JSON_BODY, parse_input
from custody.exchange.cli import exchange_app, worker
from custody.identity.cli import add_examiner_commands
from custody.identity.commands import IdentityIn
from custody.identity.prints.cli import app as prints_app
from custody.identity.prints.cli import finger_files
from custody.observability import LEVEL_ENV
from custody.release.commands import ReleaseIn, TransferIn
from custody.requests.commands import CancelIn, RequestIn, ResponseIn, ServeIn
from custody.requests.model import RequestState
from custody.service import Custody
from custody.sim.cli import bench_app, simulate
from custody.stats.cli import app as stats_app
from custody.store import db
from custody.store.paging import MAX_OFFSET, MAX_PAGE

app = typer.Typer(
    help="custody: booking, identification, federal requests, decisions under cited law, release and transfer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
law_app = typer.Typer(help="The law library and the decision engine.", no_args_is_help=True)
grants_app = typer.Typer(help="Federal grant conditions checked against each jurisdiction's law.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
db_app = typer.Typer(
    help="The store (SQLite under var/ by default; CUSTODY_DATABASE_URL for PostgreSQL).", no_args_is_help=True
)
app.add_typer(law_app, name="law")
app.add_typer(grants_app, name="grants")
add_examiner_commands(prints_app)
app.add_typer(prints_app, name="prints")
app.add_typer(stats_app, name="stats")
app.add_typer(bench_app, name="bench")
app.add_typer(exchange_app, name="exchange")
app.command("worker")(worker)
app.command("simulate")(simulate)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
retention_app = typer.Typer(
    help="Deleting personal data under the deployment's records schedule.", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")
keys_app = typer.Typer(help="The data key that seals fingerprints and secrets at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

At = Annotated[str | None, typer.Option("--at", help="When it happened (ISO 8601 with offset); default now.")]
HOURS_A_YEAR = 24 * 366
PageSize = Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="At most this many.")]
Skip = Annotated[int, typer.Option(min=0, max=MAX_OFFSET, help="Skip this many first.")]


def _when(text: str | None) -> str:
    return (parse_time(text) if text else datetime.now().astimezone()).isoformat()


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice would silently keep its last value: which one the writer meant is unknown."""
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise InvalidInput(f"the key '{repeated[0]}' is given twice in one object; keep one")
    return dict(pairs)


def _read_json(path: str) -> Any:
    """A JSON document from a file or stdin, no larger than the API takes (a request is a few
    kilobytes; a 20 MB one was decided and logged whole)."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(JSON_BODY + 1)
        else:
            with Path(path).open("rb") as source:
                data = source.read(JSON_BODY + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > JSON_BODY:
        name = "standard input" if path == "-" else path
        raise InvalidInput(f"{name} is over {JSON_BODY:,} bytes, the most custody reads as one JSON document")
    try:
        raw = data.decode("utf-8-sig")  # a byte-order mark, as some Windows editors write one, is read past
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON") from None
    try:
        return json.loads(raw, object_pairs_hook=_no_repeated_keys)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidInput(f"{path} is nested too deeply to be a request (arrays or objects in each other)") from None


def _show_record(service: Custody, command: str, record_id: str, as_json: bool) -> dict[str, Any]:
    """The booking or request a command changed, read and logged as the read of personal data it is
    (found by a review: `custody book` printed a person's record with no access entry), then shown."""
    booking = record_id.startswith("bkg_")
    view = logged_read(
        service,
        command,
        (lambda: service.booking_view(record_id)) if booking else (lambda: service.request_view(record_id)),
        lambda _: {},
        {"booking_id" if booking else "request_id": record_id},
    )
    _show(view, as_json, f"{'Booking' if booking else 'Request'} {record_id}")
    return view


def _show(value: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        emit_json(value)
        return
    table = output_table(title, ("field", "value"), show_header=False)
    for key, item in value.items():
        if key in ("timeline", "person", "charges", "convictions", "response", "decision", "officer"):
            continue
        table.add_row(key, cell(item))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load the demo scenario first if the store is empty.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (PostgreSQL: one per core).")] = 1,
    exchange: Annotated[
        str, typer.Option(help="inline: the server applies messages between agencies; workers: `custody worker` does.")
    ] = "inline",
    demo_signin: Annotated[
        bool | None,
        typer.Option(
            help="Let anyone sign in as a demo user of any role, without a password, at /signin. "
            "Default: on when listening on this machine only (127.0.0.1, localhost, ::1), off otherwise."
        ),
    ] = None,
    trust_proxy: Annotated[
        str,
        typer.Option(
            help="Addresses of the reverse proxies whose X-Forwarded-For names the client in the access log "
            "(comma-separated, or *); none by default, so the log keeps the address that connected."
        ),
    ] = "",
) -> None:
    """Serve the API and the web pages until Ctrl-C."""
    import uvicorn

    from custody.access.tokens import InvalidToken, trusted
    from custody.api.app import DEMO_SIGNIN_ENV, EXCHANGE_ENV, create_app
    from custody.api.serving import PROTOCOL

    if exchange not in ("inline", "workers"):
        raise typer.BadParameter("use inline or workers", param_hint="--exchange")
    try:
        # whose tokens the server accepts, checked here: worker processes that cannot read the
        # provider's key set would otherwise die and be restarted without end (found by a review)
        issuer = trusted()
    except InvalidToken as exc:
        raise InvalidInput(str(exc)) from None
    # A review found every served instance let anyone in as an administrator: the demo users are
    # for a machine's own browser, never for a server others can reach.
    signin = demo_signin if demo_signin is not None else host in ("127.0.0.1", "localhost", "::1")
    os.environ[EXCHANGE_ENV] = exchange  # read by each server process (custody.api.app.from_environment)
    os.environ[DEMO_SIGNIN_ENV] = "on" if signin else "off"
    service = cli_service()
    service.inline = exchange == "inline"
    if demo:
        from custody.sim.demo import load_demo

        load_demo(service, quiet=False)
    err.print(f"custody serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if signin and host not in ("127.0.0.1", "localhost", "::1"):
        err.print("warning: demo sign-in is on: anyone who can reach this server can sign in as any role")
    from custody.observability import configure_logging

    configure_logging()
    run = functools.partial(
        uvicorn.run,
        host=host,
        port=port,
        http=PROTOCOL,
        log_level="info",
        log_config=None,
        proxy_headers=bool(trust_proxy),
        forwarded_allow_ips=trust_proxy or None,
    )
    if workers > 1:
        run("custody.api.app:from_environment", factory=True, workers=workers)
        return
    run(create_app(service, issuer=issuer, demo_signin=signin))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    cli_service()
    err.print("store is at the newest schema")


@app.command()
def demo() -> None:
    """Load the demo scenario (the seed article's three cases) into the store."""
    from custody.sim.demo import load_demo

    load_demo(cli_service(), quiet=False)


@app.command()
def book(
    file: Annotated[
        str, typer.Option("--file", "-f", help="Booking as JSON (see docs/examples/booking.json); - for stdin.")
    ],
    prints: Annotated[
        list[str] | None, typer.Option("--print", help="Finger image: POSITION=PATH (1-10), repeatable.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Book an arrest; the person is checked against the federal repository at once."""
    submission = parse_input(BookingIn, _read_json(file))
    images = _print_files(prints or [])
    service = cli_service()
    row = service.book(submission, images)
    _warn_if_misspelt(submission.agency)
    _show_record(service, "book", row.id, as_json)


def _warn_if_misspelt(division: str) -> None:
    """Said on stderr as well as in the explanation: a reader of the JSON may never read that far."""
    from custody.law.loader import default_library

    try:
        nearest = default_library().nearest(division)
    except CustodyError:
        return  # not a division at all: the command has refused it, or will
    if nearest:
        err.print(
            f"warning: custody's library has no law of {division}, so federal and state law alone decide for "
            f"it. Did you mean {nearest}?",
            markup=False,
        )


def _print_files(specs: list[str]) -> list[FingerprintImage]:
    return [
        FingerprintImage(position, Path(path).name, _print_data(path))
        for position, path in finger_files("--print", specs)
    ]


def _print_data(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read fingerprint image {path}: {exc.strerror}") from None


@app.command()
def enrol(
    file: Annotated[
        str,
        typer.Option(
            "--file", "-f", help="Identity as JSON (names, identifiers; see docs/examples/identity.json); - for stdin."
        ),
    ],
    prints: Annotated[
        list[str] | None, typer.Option("--print", help="Finger image: POSITION=PATH (1-10), repeatable.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Enrol an identity in the federal repository (federal side), with its prints if given."""
    submission = parse_input(IdentityIn, _read_json(file))
    identity_id = cli_service().enrol(submission, _print_files(prints or []))
    if as_json:
        emit_json({"identity_id": identity_id})
        return
    out.print(identity_id)


@app.command()
def request(
    booking: Annotated[str, typer.Option(help="Booking id the request is about.")],
    form: Annotated[str, typer.Option(help="I-247A, I-247D, I-247N, I-247X or I-247.")],
    officer: Annotated[str, typer.Option(help="Issuing officer's name.")],
    warrant: Annotated[str, typer.Option(help="I-200, I-205, judicial_criminal, judicial_order or none.")] = "none",
    action: Annotated[
        list[str] | None, typer.Option(help="hold, notify, transfer, share_info, access; repeatable.")
    ] = None,
    issued_at: Annotated[str | None, typer.Option(help="When it was issued (ISO 8601 with offset).")] = None,
    office: Annotated[str | None, typer.Option(help="Field office.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a federal request (detainer, notification or transfer request) for a booking."""
    submission = parse_input(
        RequestIn,
        {
            "booking_id": booking,
            "form": form,
            "warrant": warrant,
            "actions": action or None,
            "officer": {"name": officer, "office": office},
            "issued_at": _when(issued_at),
        },
    )
    service = cli_service()
    row = service.issue_request(submission)
    view = _show_record(service, "request", row.id, as_json)
    if not as_json:
        _print_decision(view["decision"])


def _print_decision(decision: dict[str, Any] | None) -> None:
    if not decision:
        return
    table = output_table(
        f"Decision {decision['decision_id']} (law {decision['law_revision']}, {decision['on']})",
        ("action", "status", "citations", "explanation"),
    )
    for action, ruling in decision["actions"].items():
        table.add_row(action, ruling["status"], "\n".join(ruling["citations"]), ruling["explanation"])
    out.print(table)


@app.command()
def respond(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    honor: Annotated[list[str] | None, typer.Option(help="Action to honor; repeatable.")] = None,
    decline: Annotated[list[str] | None, typer.Option(help="Action to decline; repeatable.")] = None,
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the agency's answer; required and prohibited actions follow the law unless given."""
    both = sorted(set(honor or []) & set(decline or []))
    if both:
        raise InvalidInput(f"{', '.join(both)}: both honored and declined; give each action one answer")
    answers = {a: "honor" for a in honor or []} | {a: "decline" for a in decline or []}
    service = cli_service()
    service.respond(request_id, parse_input(ResponseIn, {"answers": answers, "at": _when(at)}))
    _show_record(service, "respond", request_id, as_json)


@app.command("serve-copy")
def serve_copy(request_id: Annotated[str, typer.Argument()], at: At = None, as_json: JsonFlag = False) -> None:
    """Record that a copy of the detainer was served on the person (an I-247A takes effect only then)."""
    service = cli_service()
    service.serve(request_id, parse_input(ServeIn, {"at": _when(at)}))
    _done(service, "serve-copy", request_id, as_json, f"request {request_id}: copy served")


def _done(service: Custody, command: str, record_id: str, as_json: bool, said: str) -> None:
    """A change's outcome: one line, or with --json the record as it now stands (a logged read)."""
    if as_json:
        _show_record(service, command, record_id, True)
    else:
        err.print(said)


@app.command()
def cancel(
    request_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why the federal side withdraws it.")],
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Cancel a federal request (federal side); a hold on it ends."""
    service = cli_service()
    service.cancel(request_id, parse_input(CancelIn, {"at": _when(at), "reason": reason}))
    _done(service, "cancel", request_id, as_json, f"request {request_id}: cancelled")


@app.command()
def move(
    booking_id: Annotated[str, typer.Argument()],
    to: Annotated[str, typer.Option("--to", help="OCD division of the agency now holding the person.")],
    kind: Annotated[str | None, typer.Option(help="jail, police or prison (default from the division).")] = None,
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Move the person to another local agency; open requests follow and are decided anew."""
    service = cli_service()
    service.move(booking_id, parse_input(MoveIn, {"to_agency": to, "agency_kind": kind, "at": _when(at)}))
    _done(service, "move", booking_id, as_json, f"booking {booking_id}: now held by {to}")


@app.command("schedule-release")
def schedule_release(
    booking_id: Annotated[str, typer.Argument()],
    planned_at: Annotated[str, typer.Option(help="Planned release time (ISO 8601 with offset).")],
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a release; a notice goes to the federal side only where the answer honored it."""
    service = cli_service()
    service.schedule_release(booking_id, parse_input(ScheduleIn, {"planned_at": planned_at, "at": _when(at)}))
    _done(service, "schedule-release", booking_id, as_json, f"booking {booking_id}: release scheduled")


@app.command()
def release(
    booking_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="bail, dismissal, sentence_served, acquittal, own_recognizance, other.")],
    at: At = None,
    federal_officer: Annotated[str | None, typer.Option(help="Federal officer present to take custody.")] = None,
    detainer_not_served: Annotated[
        bool, typer.Option(help="An I-247A on record was never served on the person: it did not take effect.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The person becomes eligible for release: held, handed over or released, as the answer allows."""
    service = cli_service()
    officers = {"name": federal_officer} if federal_officer else None
    document = {"reason": reason, "at": _when(at), "federal_officers_present": officers}
    service.release_eligible(
        booking_id, parse_input(ReleaseIn, {**document, "detainer_not_served": detainer_not_served})
    )
    _show_record(service, "release", booking_id, as_json)


@app.command()
def transfer(
    booking_id: Annotated[str, typer.Argument()],
    officer: Annotated[str, typer.Option(help="Federal officer taking custody.")],
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Federal officers take custody during a hold."""
    service = cli_service()
    service.transfer(booking_id, parse_input(TransferIn, {"at": _when(at), "officer": {"name": officer}}))
    _done(service, "transfer", booking_id, as_json, f"booking {booking_id}: transferred to federal custody")


@app.command()
def tick(
    now: Annotated[str | None, typer.Option(help="Run timers as of this time; default now.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run due timers: holds past their legal limit lapse and the person is released."""
    service = cli_service()
    moment = parse_time(now) if now else None
    if moment is not None and moment > service.clock.now() + CLOCK_SKEW:
        # Run ahead of time, it released people whose holds had days to run (found by a review).
        raise InvalidInput(f"--now {now} is in the future: timers run as of now or of a moment already past")
    lapsed = service.tick(moment)
    if as_json:
        emit_json({"lapsed": lapsed})
        return
    err.print(f"{len(lapsed)} hold(s) lapsed")


@app.command()
def show(booking_id: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """A booking with its requests, holds and timeline."""
    service = cli_service()
    named = {"booking_id": booking_id}
    view = logged_read(service, "show", lambda: service.booking_view(booking_id), lambda _: {}, named)
    if as_json:
        emit_json(view)
        return
    _show(view, False, f"Booking {booking_id}")
    table = output_table("Timeline", ("occurred_at", "event", "to"))
    for event in view["timeline"]:
        table.add_row(event["occurred_at"], event["type"], event["to_party"] or "")
    out.print(table)


@app.command()
def bookings(limit: PageSize = 20, offset: Skip = 0, as_json: JsonFlag = False) -> None:
    """List bookings, newest first."""
    service = cli_service()
    total, rows = logged_read(
        service,
        "bookings",
        lambda: service.list_bookings(limit, offset),
        lambda page: {"bookings": ids(page[1])},
        options={"limit": limit, "offset": offset},
    )
    _list(rows, total, as_json, ["id", "name", "agency", "booked_at", "state"])


@app.command()
def requests(
    limit: PageSize = 20,
    offset: Skip = 0,
    state: Annotated[RequestState | None, typer.Option(help="Only requests in this state.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List federal requests, newest first."""
    service = cli_service()
    total, rows = logged_read(
        service,
        "requests",
        lambda: service.list_requests(limit, offset, state),
        lambda page: {"requests": ids(page[1]), "bookings": ids(page[1], "booking_id")},
        options={"limit": limit, "offset": offset, "state": state},
    )
    _list(rows, total, as_json, ["id", "booking_id", "form", "agency", "state"])


def _list(rows: list[dict[str, Any]], total: int, as_json: bool, columns: list[str]) -> None:
    if as_json:
        emit_json({"total": total, "items": rows})
        return
    table = output_table(f"{len(rows)} of {total}", columns)
    for row in rows:
        table.add_row(*(cell(row[c]) for c in columns))
    out.print(table)


@law_app.command("decide")
def law_decide(
    file: Annotated[str, typer.Argument(help="DecisionRequest JSON file; - for stdin.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Accepted for symmetry with the other commands: the Decision is always JSON.")
    ] = False,
) -> None:
    """Decide a DecisionRequest and print the Decision as JSON (exit 2 on invalid input).

    The decision is logged in the store. Where the store cannot be opened or written (a read-only
    checkout, a database down), the decision is still printed, and stderr says it was not logged and
    what to do."""
    from custody.law.engine import decide

    document = _read_json(file)
    # Deciding needs only the law library: a lawyer or reporter checking a decision gets it whatever
    # the store's state, told plainly that this one is in no decision log.
    unlogged: str | None = None
    try:
        result = cli_service().decide(document)
    except StoreUnavailable as exc:
        unlogged = exc.detail
    except CustodyError:
        raise
    except Exception as exc:
        unlogged = (
            f"{db.describe(exc)}; point CUSTODY_VAR at a writable folder or CUSTODY_DATABASE_URL at a "
            "reachable database to log it"
        )
    if unlogged is not None:
        result = decide(document).to_contract()
        err.print(f"warning: decision not logged: {unlogged}", markup=False)
    _warn_if_misspelt(result["agency"])  # once decided: a refused request gets its refusal alone
    emit_json(result)


@law_app.command("show")
def law_show(
    division: Annotated[str, typer.Argument(help="OCD division, e.g. ocd-division/country:us/state:il/county:cook.")],
    on: Annotated[str, typer.Option("--on", help="Date (YYYY-MM-DD); default today.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """The rules in force for agencies of a division on a date, with citations."""
    from custody.law.browse import in_force
    from custody.law.loader import default_library

    view = in_force(default_library(), parse_division(division), parse_day(on, "--on") if on else date.today())
    if as_json:
        emit_json(view)
        return
    out.print(f"[bold]{view['division']}[/bold] on {view['on']}  (law {view['law_revision']})")
    for layer in view["layers"]:
        if not layer["encoded"]:
            out.print(f"  [yellow]no law of {layer['division']} is encoded[/yellow]")
    for gap in view["not_encoded"]:
        binds = gap["binds"] if isinstance(gap["binds"], str) else ", ".join(gap["binds"])
        out.print("  [yellow]in force but not encoded:[/yellow]", end=" ")
        out.print(
            f"{gap['citation']} ({', '.join(gap['actions'])}; binds {binds}): {gap['why']}; "
            "decisions it touches are undetermined",
            markup=False,
        )
    for instrument in view["instruments"]:
        flag = "" if instrument["verified"] else "  [yellow](not verified)[/yellow]"
        out.print(f"\n[bold]{instrument['name']}[/bold]{flag}\n  {instrument['citation']}  {instrument['url']}")
        out.print(f"  in force from {instrument['effective_from']}; binds: {cell(instrument['binds'])}")
        if instrument["notes"]:
            out.print(f"  note: {instrument['notes']}", markup=False)
        for rule in instrument["rules"]:
            out.print(f"  - {rule['citation']}: {', '.join(rule['actions'])} {rule['effect']}. {rule['says']}")
            for exc in rule.get("exceptions", []):
                out.print(f"      except {exc['citation']}: {exc['effect']} when {exc['when']}. {exc['says']}")
    out.print(f"\nforms in use: {', '.join(view['forms_in_use'])}")


@law_app.command("diff")
def law_diff(
    division: Annotated[str, typer.Argument(help="OCD division.")],
    start: Annotated[str, typer.Option("--from", help="First date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Second date (YYYY-MM-DD).")],
    as_json: JsonFlag = False,
) -> None:
    """What changed in the law binding a division's agencies between two dates, and by which instrument."""
    from custody.law.browse import diff
    from custody.law.loader import default_library

    view = diff(default_library(), parse_division(division), parse_day(start, "--from"), parse_day(end, "--to"))
    if as_json:
        emit_json(view)
        return
    if not view["changes"]:
        out.print(f"no instrument took effect or ended between {view['from']} and {view['to']}")
    for change in view["changes"]:
        out.print(f"{change['on']}  {change['change']}: [bold]{change['name']}[/bold] ({change['citation']})")
        for rule in change["rules"]:
            out.print(f"    {rule['citation']}: {', '.join(rule['actions'])} {rule['effect']}")
    for gap in view["not_encoded_changes"]:
        out.print(
            f"{gap['on']}  {gap['change']}: {gap['citation']} ({', '.join(gap['actions'])}; decisions undetermined)",
            markup=False,
        )


@law_app.command("explain")
def law_explain(decision_id: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """The trace of a logged decision: each instrument and rule considered, fired or not, and why."""
    service = cli_service()
    view = logged_read(
        service, "law explain", lambda: service.explain(decision_id), lambda _: {}, {"decision_id": decision_id}
    )
    if as_json:
        emit_json(view)
        return
    out.print(f"[bold]{decision_id}[/bold]  law {view['law_revision']}  ({view['note']})")
    for entry in view["trace"]["instruments"]:
        out.print(f"  {entry['citation']}: {entry['why']}")
    for action, steps in view["trace"]["actions"].items():
        ruling = view["result"]["actions"][action]
        out.print(f"\n[bold]{action}[/bold]: {ruling['status']} — {ruling['explanation']}")
        for step in steps:
            out.print(f"  {step['citations'][0]} ({step['rule']}): {step['why']}")


@grants_app.command("check")
def grants_check(
    division: Annotated[str, typer.Argument(help="OCD division of the grantee.")],
    fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Grant fiscal year.")] = 2017,
    on: Annotated[
        str, typer.Option("--on", help="Date to check (default: the day the conditions were announced).")
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Per condition: does the jurisdiction's law conflict with it, and which rulings bear on it."""
    from custody.law.grants import check
    from custody.law.loader import default_library

    report = check(default_library(), parse_division(division), fiscal_year, parse_day(on, "--on") if on else None)
    _warn_if_misspelt(division)
    if as_json:
        emit_json(report)
        return
    out.print(f"[bold]{report['program']}[/bold] FY{report['fiscal_year']} — {report['division']} on {report['on']}")
    out.print(report["note"])
    for condition in report["conditions"]:
        out.print(f"\n[bold]{condition['name']}[/bold]: {condition['conflict']}")
        out.print(f"  {condition['why']}")
        for ruling in condition["rulings"]:
            when = "" if ruling["in_effect_on_date"] else " (later)"
            out.print(f"  - {ruling['case']}, {ruling['date']}{when} ({ruling['bearing']}): {ruling['holding']}")


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Check every agency's audit chain; name the first broken entry. Exit 1 if any is broken."""
    reports = cli_service().verify_audit()
    if as_json:
        emit_json([r.__dict__ for r in reports])
    elif not reports:
        err.print("no audit entries yet: nothing to verify (book, request or decide something first)")
    else:
        for report in reports:
            mark = "ok" if report.ok else f"BROKEN at entry {report.first_broken}: {report.problem}"
            entries = "1 entry" if report.entries == 1 else f"{report.entries} entries"
            out.print(f"{report.chain}: {entries}, {mark}")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@retention_app.command("apply")
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what is due; delete nothing.")] = False,
    schedule: Annotated[
        Path | None, typer.Option(help="The schedule file (default: $CUSTODY_RETENTION_SCHEDULE; none: nothing due).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete what is past the periods of the deployment's records schedule (custody sets none)."""
    from custody.store import retention

    periods = retention.load_schedule(schedule)
    service = cli_service()
    with service.unit() as unit:
        outcomes = retention.apply(unit, periods, service.clock.now(), command_line_operator(), dry_run)
    if as_json:
        emit_json({"dry_run": dry_run, "classes": [o.to_json() for o in outcomes]})
        return
    if not periods:
        out.print(f"no retention schedule configured (--schedule or ${retention.SCHEDULE_ENV}): nothing is due")
    for o in outcomes:
        done = "due (dry run)" if dry_run else "deleted"
        out.print(f"{o.record_class}: {o.due} {done}, older than {o.days} days under {o.authority}")


@keys_app.command("reseal")
def keys_reseal(as_json: JsonFlag = False) -> None:
    """Seal everything kept at rest again under the newest data key. Put a new key first in
    CUSTODY_DATA_KEY (or its file), keys separated by commas; restart every server and worker that
    reads the variable (a key file is read again when it changes); run this; then remove the old keys."""
    from rich.progress import MofNCompleteColumn

    from custody.identity import biometrics, settings
    from custody.store import crypto, reseal

    newest, *older = crypto.key_ids()
    service = cli_service()
    with progress_bars(MofNCompleteColumn()) as report:
        counts = reseal.reseal_store(service.unit, report)
    counts["gallery"] = biometrics.reseal(settings.from_environment())
    with service.unit() as unit:
        reseal.record(unit, counts, newest, len(older) + 1)
    if as_json:
        emit_json({"sealed_under": newest, "counts": counts, "older_keys": older})
        return
    done = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    out.print(f"sealed again under the key {newest}: {done}")
    if older:
        out.print(
            f"the older keys ({', '.join(older)}) can be removed from the data key setting once no custody process "
            "still runs with a setting from before this key was put first (such a process seals under the old key)"
        )


@keys_app.command("check")
def keys_check(as_json: JsonFlag = False) -> None:
    """Count what is sealed under the newest data key, under an older one and under none configured
    (the store's images and webhook secrets, the gallery's records). Run it after `custody keys
    reseal` and after every server and worker has restarted on the new setting: the older keys can
    go when nothing is left under them. Exit 1 while something is; exit 2 if the key setting is malformed."""
    from rich.progress import MofNCompleteColumn

    from custody.identity import biometrics, settings
    from custody.store import crypto, reseal

    try:
        crypto.fernet()  # a malformed setting is the operator's to fix (exit 2), not a key left over (exit 1)
    except crypto.KeyError_ as refused:
        raise InvalidInput(str(refused)) from None
    newest, *older = crypto.key_ids()
    service = cli_service()
    with progress_bars(MofNCompleteColumn()) as report:
        census = reseal.check_store(service.read, report)
    census["gallery"] = biometrics.census(settings.from_environment())
    left = sum(c.older + c.unreadable for c in census.values())
    if as_json:
        parts = {name: c.to_json() for name, c in census.items()}
        emit_json({"newest_key": newest, "older_keys": older, "counts": parts, "older_keys_removable": left == 0})
    else:
        for name, c in census.items():
            out.print(
                f"{name}: {c.newest:,} under the newest key {newest}, {c.older:,} under an older key"
                + (f", {c.unreadable:,} under no key configured" if c.unreadable else "")
            )
        if left == 0:
            out.print("nothing is sealed under an older key" + (": they can be removed" if older else ""))
        else:
            out.print(
                "some values are not under the newest key: run `custody keys reseal` again once every server and "
                "worker runs with the new key first (a process on the setting from before seals under the old "
                "key); values under no configured key need the key they were sealed with back in the setting"
            )
    if left:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except CustodyError as exc:
        sys.stderr.write(f"error: {exc.detail}\n")
        sys.exit(2)
    except OperationalError as exc:
        # The store refused the work: down, locked, read-only, out of space. Not custody's fault.
        sys.stderr.write(
            f"error: the store could not be used ({db.describe(exc)}); check that it is reachable and writable "
            "(CUSTODY_DATABASE_URL, or the command's --url), then run the command again\n"
        )
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: every step custody committed is kept; run the command again to go on\n")
        sys.exit(130)
    except Exception as exc:
        # A fault custody did not foresee: one line for the person at the desk, the trace for whoever
        # runs it again at DEBUG.
        sys.stderr.write(
            f"error: custody failed unexpectedly ({db.describe(exc)}); report it with the command you ran "
            f"(run it again with {LEVEL_ENV}=DEBUG to see where it failed)\n"
        )
        if os.environ.get(LEVEL_ENV, "").strip().upper() == "DEBUG":
            traceback.print_exc()
        sys.exit(1)


def token(
    role: Annotated[
        str,
        typer.Option(
            help="jail_officer, jail_supervisor, federal_officer, grant_administrator, "
            "analyst, auditor or administrator."
        ),
    ],
    agency: Annotated[str | None, typer.Option(help="Jail roles: the agency's OCD division.")] = None,
    area: Annotated[list[str] | None, typer.Option(help="Federal officer: a division of the area; repeat.")] = None,
    office: Annotated[str | None, typer.Option(help="Federal officer: the field office's name.")] = None,
    name: Annotated[str | None, typer.Option(help="The user's name, as audit entries will show it.")] = None,
    subject: Annotated[str | None, typer.Option(help="The user's id (the token's sub); default from role.")] = None,
    hours: Annotated[float, typer.Option(help="Hours until the token expires.")] = 8.0,
) -> None:
    """Mint a bearer token (a JWT) from the local development issuer, for the API: prints it on stdout.

    `curl -H "Authorization: Bearer $(custody token --role jail_officer --agency DIVISION)" …`"""
    from custody.access.roles import Principal, Role
    from custody.access.tokens import ISSUER_ENV, InvalidToken, Issuer, Provider

    try:
        provider = Provider.from_environment()
    except InvalidToken as exc:
        raise InvalidInput(str(exc)) from None
    if provider is not None:
        raise InvalidInput(
            f"tokens come from the identity provider {provider.issuer} ({ISSUER_ENV}); custody mints none: "
            "sign in there"
        )
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role '{role}'; use one of {', '.join(r.value for r in Role)}")
    if not 0 < hours <= HOURS_A_YEAR:  # also refuses nan
        raise InvalidInput(f"--hours {hours}: give the hours until it expires, more than 0 and at most a year")
    try:
        principal = Principal(
            subject=subject or f"cli-{role}",
            name=name or f"{role.replace('_', ' ')} (command line)",
            role=Role(role),
            agency=agency,
            area=tuple(area or ()),
            office=office,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    # Minting a credential is logged like a read, before it is printed (found by a review: a year's
    # administrator token left no trace).
    minted = logged_read(
        cli_service(),
        "token",
        lambda: Issuer.local().mint(principal, ttl_seconds=int(hours * 3600)),
        lambda _: {},
        named={"subject": principal.subject},
        options={"role": role, "agency": agency, "area": ",".join(area or ()) or None, "hours": hours},
    )
    sys.stdout.write(minted + "\n")


app.command("token")(token)
