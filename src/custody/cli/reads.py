"""Every `custody` command that prints personal data logs the read in the access log first
(``custody.audit.access``, the function the API's log uses): a read that cannot be logged is not
printed, as on the API. A refused read (an unknown booking) is logged with its refusal."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from custody.audit.access import Access, command_line_operator, from_command_line, record
from custody.domain.errors import CustodyError, StoreUnavailable
from custody.service import Custody
from custody.store import db

Shown = TypeVar("Shown")
SERVER_ERROR = 500


def cli_service() -> Custody:
    """The store as the command line opens it: what it changes and reads is logged as the command line's."""
    try:
        return Custody.open(actor=command_line_operator())
    except (OSError, SQLAlchemyError) as exc:
        where = "CUSTODY_DATABASE_URL" if os.environ.get("CUSTODY_DATABASE_URL") else "CUSTODY_VAR (a writable folder)"
        raise StoreUnavailable(f"cannot open the store ({db.describe(exc)}); check {where}") from None


def logged_read(
    service: Custody,
    command: str,
    read: Callable[[], Shown],
    records: Callable[[Shown], dict[str, str]],
    named: dict[str, str] | None = None,
    options: dict[str, object] | None = None,
) -> Shown:
    """Run ``read`` and log it: ``named`` are the record ids the user typed, ``records`` picks the
    ids of what is about to be printed, ``options`` the command's other options."""
    given = {key: str(value) for key, value in (options or {}).items() if value is not None}
    try:
        shown = read()
    except CustodyError as exc:
        _log(service, from_command_line(command, named or {}, given, exc.status))
        raise
    except Exception:
        _log(service, from_command_line(command, named or {}, given, SERVER_ERROR))
        raise
    _log(service, from_command_line(command, {**(named or {}), **records(shown)}, given, 200))
    return shown


def ids(items: Iterable[dict[str, object]], key: str = "id") -> str:
    """The ids of a printed list, in the order shown."""
    return ",".join(str(item[key]) for item in items)


def _log(service: Custody, access: Access) -> None:
    with service.unit() as unit:
        record(unit, access, service.clock.now())
