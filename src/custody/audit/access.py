"""The access log: one hash-chained entry for every access to personal data, who, what, when,
where from and with what outcome (CJIS Security Policy, auditing and accountability).

Changes are already on the agencies' chains with their actor (``store/unit.py``); this log adds
what those entries cannot say: reads, refusals, the client's address and user agent, and which
fields the law withheld from the reader. Its entries go on chains of their own, one per reader's
jurisdiction (``access:<division>``, ``access:federal``, ``access:<role>``), so readers of one
agency never wait on the lock of another's chain head, and ``custody audit verify`` checks them
like any other chain.

The command line reads the same store with no token: its reads are logged here too
(:func:`from_command_line`), on the chain ``access:cli``, naming the operating-system user (and
``CUSTODY_ACTOR``, the person they say they act for) and the host and terminal the command ran on.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from custody.access.roles import Principal, Role
from custody.store.unit import Unit

ACTION = "PersonalDataAccessed"
CHAIN_PREFIX = "access:"
COMMAND_LINE_CHAIN = f"{CHAIN_PREFIX}cli"
ACTOR_ENV = "CUSTODY_ACTOR"  # who a command-line user says they act for, e.g. a badge number
SUBJECT_LENGTH = 60  # audit_entries.subject
ACTING_FOR_LENGTH = 120  # CUSTODY_ACTOR, within audit_entries.actor (200) with the user's name


@dataclass(frozen=True)
class Access:
    """One access as the door saw it; ``reader`` is None for an anonymous or refused token."""

    reader: Principal | None
    method: str
    route: str  # the route's template, e.g. /bookings/{booking_id}
    path: str
    records: dict[str, str]  # the record ids named in the path
    query: dict[str, str]
    client: str
    user_agent: str
    status: int
    withheld: dict[str, list[str]] = field(default_factory=dict)  # record id -> fields the law withheld
    credentials: str = "none"  # "bearer", "cookie", "invalid", "none", or how a sign-in or sign-out went
    operator: str | None = None  # a command-line reader, who has no token: "os:<user>[ as <CUSTODY_ACTOR>]"

    @property
    def outcome(self) -> str:
        if self.status in (401, 403):
            return "refused"
        if self.status >= 400:
            return "failed"
        return "withheld" if any(self.withheld.values()) else "allowed"


def chain_of(access: Access) -> str:
    """The chain an access is logged on: the reader's agency, the federal side, the role, or the
    command line's own."""
    if access.operator is not None:
        return COMMAND_LINE_CHAIN
    reader = access.reader
    if reader is None:
        return f"{CHAIN_PREFIX}anonymous"
    if reader.agency:
        return f"{CHAIN_PREFIX}{reader.agency}"
    if reader.role == Role.federal_officer:
        return f"{CHAIN_PREFIX}federal"
    return f"{CHAIN_PREFIX}{reader.role.value}"


def actor_of(access: Access) -> str:
    if access.operator is not None:
        return access.operator
    if access.reader is not None:
        return access.reader.actor
    return "invalid-token" if access.credentials == "invalid" else "anonymous"


def record(unit: Unit, access: Access, at: datetime) -> None:
    """Append the access to its chain, in the caller's transaction."""
    subject = ",".join(f"{name}:{value}" for name, value in sorted(access.records.items())) or access.route
    subject = subject[:SUBJECT_LENGTH]  # the whole path is in the entry's data
    unit.record(
        chain_of(access),
        recorded_at=at,
        actor=actor_of(access),
        action=ACTION,
        subject=subject,
        data={
            "method": access.method,
            "route": access.route,
            "path": access.path,
            "records": access.records,
            "query": access.query,
            "role": access.reader.role.value if access.reader else None,
            "jurisdiction": access.reader.jurisdiction if access.reader else None,
            "client": access.client,
            "user_agent": access.user_agent,
            "status": access.status,
            "outcome": access.outcome,
            "withheld": access.withheld,
            "credentials": access.credentials,
        },
    )


def from_command_line(command: str, records: dict[str, str], options: dict[str, str], status: int) -> Access:
    """A read by a `custody` command: ``status`` is the answer the API would have given (200, or
    the refusal's ``CustodyError.status``), so its outcome reads the same as a request's."""
    terminal = os.ttyname(sys.stdin.fileno()) if sys.stdin is not None and sys.stdin.isatty() else "no terminal"
    return Access(
        reader=None,
        method="CLI",
        route=f"custody {command}",
        path=f"custody {command}",
        records=records,
        query=options,
        client=f"cli:{socket.gethostname()}",
        user_agent=terminal,
        status=status,
        operator=command_line_operator(),
    )


def command_line_operator() -> str:
    """Who runs a `custody` command: the operating system's user, and whom they act for
    (``CUSTODY_ACTOR``). Changes made from the command line are recorded under this name too, not
    under "cli" alone (found by a review)."""
    acting_for = os.environ.get(ACTOR_ENV, "").strip()[:ACTING_FOR_LENGTH]
    user = getpass.getuser()
    return f"os:{user} as {acting_for}" if acting_for else f"os:{user}"


def withheld_in(value: Any) -> dict[str, list[str]]:
    """The fields withheld from a federal reader, per booking, found in a view, a list page or a
    list of hits (each booking view redacted by ``access.withholding.redact`` carries ``sharing``)."""
    found: dict[str, list[str]] = {}
    if isinstance(value, dict):
        sharing = value.get("sharing")
        if isinstance(sharing, dict) and "id" in value:
            fields = sorted(sharing.get("withheld", {}))
            if fields:
                found[str(value["id"])] = fields
        for child in value.values():
            if isinstance(child, dict | list):
                found.update(withheld_in(child))
    elif isinstance(value, list):
        for item in value:
            found.update(withheld_in(item))
    return found
