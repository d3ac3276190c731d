"""`custody prints queue|confirm|reject`: the fingerprint examiner's side of a booking's search.

A booking's prints that rank a repository identity at or above the threshold wait here until an
examiner decides; the examiner's name goes into the audit entry of the decision. A refusal (an
unknown identification, one already decided) is one line on stderr and exit status 2, as
everywhere in `custody` (cli/main.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from custody.cli.output import JsonFlag, emit_json, out, output_table
from custody.cli.reads import cli_service, ids, logged_read
from custody.service import Custody

Examiner = Annotated[str, typer.Option("--examiner", help="Your name, as the audit log will show it.")]


def _decided(work: Callable[[Custody], dict[str, Any]], as_json: bool) -> None:
    identification = work(cli_service())
    if as_json:
        emit_json(identification)
        return
    out.print(f"{identification['id']}: {identification['state']} by {identification['examiner']}")


def queue(
    state: Annotated[
        str, typer.Option("--state", help="awaiting_examiner (default), confirmed or rejected.")
    ] = "awaiting_examiner",
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List identifications by prints, oldest first: by default those waiting for an examiner."""
    service = cli_service()
    total, items = logged_read(
        service,
        "prints queue",
        lambda: service.identifications(limit, 0, state),
        _shown,
        options={"state": state, "limit": limit},
    )
    if as_json:
        emit_json({"total": total, "items": items})
        return
    table = output_table(
        f"{total} identification(s) {state}", ("identification", "booking", "agency", "best candidate", "score")
    )
    for item in items:
        best = item["candidates"][0]
        table.add_row(
            item["id"],
            item["booking_id"],
            item["agency"],
            f"{best['identity_id']} {'; '.join(best['names'])}",
            f"{best['score']:.1f}",
        )
    out.print(table)


def _shown(page: tuple[int, list[dict[str, Any]]]) -> dict[str, str]:
    """The queue shows each identification, its booking and its candidates' repository records."""
    items = page[1]
    candidates = [candidate for item in items for candidate in item["candidates"]]
    return {
        "identifications": ids(items),
        "bookings": ids(items, "booking_id"),
        "identities": ids(candidates, "identity_id"),
    }


def confirm(
    identification_id: Annotated[str, typer.Argument(help="The identification (idf_…), from `custody prints queue`.")],
    examiner: Examiner,
    identity: Annotated[
        str | None, typer.Option("--identity", help="The candidate you confirm (default: the best one).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Confirm that the booked person is the candidate: the agency gets the hit and the record."""
    _decided(lambda s: s.confirm_identification(identification_id, examiner, identity), as_json)


def reject(
    identification_id: Annotated[str, typer.Argument(help="The identification (idf_…), from `custody prints queue`.")],
    examiner: Examiner,
    reason: Annotated[str, typer.Option("--reason", help="Why none of the candidates is the person.")],
    as_json: JsonFlag = False,
) -> None:
    """Reject every candidate: the booking is answered as if the prints had found no one."""
    _decided(lambda s: s.reject_identification(identification_id, examiner, reason), as_json)


def add_examiner_commands(app: typer.Typer) -> None:
    """The examiner's commands sit with the other fingerprint commands, under `custody prints`."""
    app.command("queue")(queue)
    app.command("confirm")(confirm)
    app.command("reject")(reject)
