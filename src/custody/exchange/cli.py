"""`custody worker` and `custody exchange …`: worker processes, dead letters and the chaos run."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Any

import typer

from custody.cli.output import JsonFlag, emit_json, err, out
from custody.cli.reads import cli_service, ids, logged_read
from custody.domain.errors import Conflict, NotFound

exchange_app = typer.Typer(help="The inter-agency exchange: dead letters, chaos runs.", no_args_is_help=True)


def worker(
    party: Annotated[str, typer.Option(help="federal, local:DIVISION, local:* for every local agency, or webhooks.")],
    transport: Annotated[str, typer.Option(help="inproc (the store is the queue) or nats (JetStream).")] = "inproc",
    clock: Annotated[str, typer.Option(help="system, or stored: the store's shared simulated clock.")] = "system",
    nats_url: Annotated[str, typer.Option(help="NATS server.", envvar="CUSTODY_NATS_URL")] = "nats://127.0.0.1:4222",
) -> None:
    """Run one worker of a party until Ctrl-C or SIGTERM: apply its messages, run its timers."""
    from custody.domain.divisions import parse_division
    from custody.exchange.runner import run
    from custody.exchange.worker import EVERY_LOCAL
    from custody.observability import configure_logging
    from custody.service import Custody
    from custody.store.clock import StoredClock
    from custody.store.db import make_engine, upgrade

    if transport not in ("inproc", "nats"):
        raise typer.BadParameter("use inproc or nats", param_hint="--transport")
    if not (party in ("federal", "webhooks") or party.startswith("local:")):
        raise typer.BadParameter("use federal, local:DIVISION, local:* or webhooks", param_hint="--party")
    if party.startswith("local:") and party != EVERY_LOCAL:
        parse_division(party.removeprefix("local:"))  # a mistyped division is refused, not served forever
    configure_logging()
    engine = make_engine()
    upgrade(engine)
    custody = Custody(
        engine,
        StoredClock(engine) if clock == "stored" else None,
        actor=f"worker:{party}",
        transport=transport,
        inline=False,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    err.print(f"worker for {party} over {transport}; Ctrl-C to stop")
    try:
        run(custody, party, transport, nats_url, stop)
    except KeyboardInterrupt:
        stop.set()


@exchange_app.command("dead-letters")
def dead_letters(limit: int = 50, as_json: JsonFlag = False) -> None:
    """Messages that could never be applied, with the reason, newest first."""
    from sqlalchemy import select

    from custody.store.models import DeadLetterRow

    service = cli_service()

    def read() -> list[dict[str, Any]]:
        with service.unit() as unit:
            rows = unit.session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit))
            return [
                {
                    "id": r.id,
                    "party": r.party,
                    "message_id": r.message_id,
                    **_about(r.raw),
                    "reason": r.reason,
                    "at": r.at.isoformat(),
                }
                for r in rows
            ]

    # a dead letter's reason may quote the message it could not apply: logged as a read first
    items = logged_read(
        service, "exchange dead-letters", read, lambda shown: {"dead_letters": ids(shown)}, None, {"limit": limit}
    )
    if as_json:
        emit_json({"total": len(items), "items": items})
        return
    if not items:
        out.print("no dead letters")
    for item in items:
        about = f"{item['type'] or 'unreadable'} about {item['subject'] or '-'}"
        out.print(f"#{item['id']}  {item['at']}  {item['party']}  {about}: {item['reason']}", highlight=False)
    if items:
        err.print("once the cause is put right, apply one again with `custody exchange retry ID`")


def _about(raw: str) -> dict[str, str | None]:
    """What a dead letter was: its message type and the record it is about (a booking or request
    id), so an officer can tell which person it concerns (found by a review: only ids were shown)."""
    try:
        envelope = json.loads(raw)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return {"type": None, "subject": None}
    kind, subject = envelope.get("type"), envelope.get("subject")
    return {"type": kind if isinstance(kind, str) else None, "subject": subject if isinstance(subject, str) else None}


@exchange_app.command("retry")
def retry(dead_letter: Annotated[int, typer.Argument(help="The dead letter's number (#N in the listing).")]) -> None:
    """Apply a dead letter's message again, once what refused it is put right: applied, it leaves the
    dead letters; refused again, it stays with the new reason."""
    from custody.exchange.worker import Outcome, apply_in
    from custody.store.models import DeadLetterRow

    service = cli_service()
    with service.unit() as unit:
        row = unit.session.get(DeadLetterRow, dead_letter)
        if row is None:
            raise NotFound(f"no dead letter #{dead_letter}; list them with `custody exchange dead-letters`")
        party, raw, message_id = row.party, row.raw, row.message_id
        unit.session.delete(row)
        unit.session.flush()
        outcome = apply_in(unit, party, raw, message_id)
        unit.record(
            "exchange",
            action="DeadLetterRetried",
            subject=message_id or f"dead-letter-{dead_letter}",
            data={"dead_letter": dead_letter, "party": party, "outcome": outcome},
        )
    if outcome == Outcome.dead:
        raise Conflict(f"dead letter #{dead_letter} was refused again; see `custody exchange dead-letters` for why")
    out.print(f"dead letter #{dead_letter}: {outcome}")


@exchange_app.command("chaos")
def chaos(
    bookings: Annotated[int, typer.Option(help="How many bookings with federal requests.")] = 100,
    kills: Annotated[int, typer.Option(help="How many times a worker is killed with SIGKILL.")] = 5,
    store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
    transport: Annotated[str, typer.Option(help="inproc or nats.")] = "inproc",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    api_kills: Annotated[
        int, typer.Option(help="Post bookings and requests over HTTP and kill the API server this many times.")
    ] = 0,
) -> None:
    """Kill workers at random while bookings and requests flow; print the invariants (last line)."""
    from custody.exchange import chaos as run

    if store not in ("sqlite", "postgres") or transport not in ("inproc", "nats"):
        raise typer.BadParameter("--store sqlite|postgres, --transport inproc|nats")
    report = run.run(bookings, kills, store, transport, seed, api_kills=api_kills)
    err.print(f"{report.kills} kills, {report.dead_letters} dead letters, {report.seconds:.1f} s")
    if api_kills:
        err.print(f"{report.api_kills} API server kills, {report.answers_lost} answers lost to them and recovered")
    for detail in report.details:
        err.print(f"  duplicate: {detail}")
    out.print(report.line(), highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@exchange_app.command("subscribe")
def subscribe(
    url: Annotated[str, typer.Option(help="Where to POST each message (the subscriber's endpoint).")],
    secret: Annotated[str, typer.Option(help="Shared secret for the HMAC-SHA256 signature (16 to 64 characters).")],
    message_type: Annotated[
        list[str] | None, typer.Option("--type", help="Message type; repeatable; default all.")
    ] = None,
) -> None:
    """Subscribe an outside endpoint to messages; `custody worker --party webhooks` delivers them."""
    from custody.exchange.webhooks import subscribe as add

    out.print(add(cli_service(), url, secret, message_type or []))
