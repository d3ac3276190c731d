"""The one place that says who may do what: role × jurisdiction × resource × action.

Every door (the API routes and the pages) asks :func:`authorise` before it reads or changes
anything. A role holds a permission in a scope: ``agency`` (only the agency the user works for),
``area`` (only divisions inside a federal field office's area of responsibility) or ``any``. The
law itself (``/law``, ``/grants/check``) is public and needs no permission.

The table, as a person would read it:

- jail officers and supervisors book, fingerprint, move, answer and serve requests, and record
  releases and hand-overs, for their own agency; supervisors also run timers, read their agency's
  audit chain and the statistics;
- federal officers enrol identities, see hits and messages, issue and withdraw requests and take
  custody at a pickup, for agencies in their area; what they see of a booking is limited by the
  agency's law (``access/withholding.py``);
- grant administrators and analysts see aggregates only (statistics) and may run the law engine;
- auditors read and verify the audit log and the decision log, nothing else;
- administrators read everything and run timers, but do not act in the process (no booking,
  request, answer or release in their name): those stay with the officers accountable for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from custody.access.roles import Principal, Role
from custody.domain.errors import CustodyError


class Resource(StrEnum):
    booking = "booking"
    release = "release"
    request = "request"
    identity = "identity"
    hit = "hit"
    message = "message"
    decision = "decision"
    stats = "stats"
    audit = "audit"
    timer = "timer"


class Op(StrEnum):
    read = "read"
    create = "create"
    update = "update"
    respond = "respond"
    serve = "serve"
    cancel = "cancel"
    transfer = "transfer"
    verify = "verify"
    run = "run"


class Scope(StrEnum):
    agency = "agency"
    area = "area"
    any = "any"


Permission = tuple[Resource, Op]
J, JS, F, G, A, AU, AD = (
    Role.jail_officer,
    Role.jail_supervisor,
    Role.federal_officer,
    Role.grant_administrator,
    Role.analyst,
    Role.auditor,
    Role.administrator,
)
_LOCAL = {J: Scope.agency, JS: Scope.agency}

PERMISSIONS: dict[Permission, dict[Role, Scope]] = {
    (Resource.booking, Op.create): {**_LOCAL},
    (Resource.booking, Op.read): {**_LOCAL, F: Scope.area, AD: Scope.any},
    (Resource.booking, Op.update): {**_LOCAL},  # fingerprints, moves
    (Resource.release, Op.read): {**_LOCAL, AD: Scope.any},  # the release queue
    (Resource.release, Op.update): {**_LOCAL},  # schedule, release eligibility
    (Resource.release, Op.transfer): {**_LOCAL, F: Scope.area},
    (Resource.request, Op.create): {F: Scope.area},
    (Resource.request, Op.read): {**_LOCAL, F: Scope.area, AD: Scope.any},
    (Resource.request, Op.respond): {**_LOCAL},
    (Resource.request, Op.serve): {**_LOCAL},
    (Resource.request, Op.cancel): {F: Scope.area},
    (Resource.identity, Op.create): {F: Scope.any},
    (Resource.hit, Op.read): {F: Scope.area, AD: Scope.any},
    (Resource.hit, Op.update): {F: Scope.area},  # an examiner confirms or rejects a fingerprint candidate
    (Resource.message, Op.read): {F: Scope.area, AD: Scope.any},
    (Resource.decision, Op.read): {**_LOCAL, F: Scope.area, AU: Scope.any, AD: Scope.any},
    (Resource.decision, Op.create): {r: Scope.any for r in Role},
    (Resource.stats, Op.read): {JS: Scope.any, G: Scope.any, A: Scope.any, AD: Scope.any},
    (Resource.audit, Op.read): {JS: Scope.agency, AU: Scope.any, AD: Scope.any},
    (Resource.audit, Op.verify): {JS: Scope.agency, AU: Scope.any, AD: Scope.any},
    (Resource.timer, Op.run): {JS: Scope.agency, AD: Scope.any},
}

_WHAT = {
    (Resource.booking, Op.create): "book an arrest",
    (Resource.booking, Op.read): "see bookings",
    (Resource.booking, Op.update): "change a booking",
    (Resource.release, Op.read): "see the release queue",
    (Resource.release, Op.update): "record a release",
    (Resource.release, Op.transfer): "record a transfer to federal custody",
    (Resource.request, Op.create): "issue a federal request",
    (Resource.request, Op.read): "see federal requests",
    (Resource.request, Op.respond): "answer a federal request",
    (Resource.request, Op.serve): "record that a request was served",
    (Resource.request, Op.cancel): "withdraw a federal request",
    (Resource.identity, Op.create): "enrol an identity in the federal repository",
    (Resource.hit, Op.read): "see identification hits",
    (Resource.hit, Op.update): "confirm or reject a fingerprint candidate",
    (Resource.message, Op.read): "read messages sent to the federal side",
    (Resource.decision, Op.read): "read a logged decision",
    (Resource.decision, Op.create): "run the law engine",
    (Resource.stats, Op.read): "see statistics",
    (Resource.audit, Op.read): "read the audit log",
    (Resource.audit, Op.verify): "verify the audit log",
    (Resource.timer, Op.run): "run timers",
}


class NotAuthenticated(CustodyError):
    status = 401
    title = "Sign-in required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": 'Bearer realm="custody"'}


class InvalidCredentials(NotAuthenticated):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {
            "WWW-Authenticate": f'Bearer realm="custody", error="invalid_token", error_description="{detail}"'
        }


class Forbidden(CustodyError):
    status = 403
    title = "Forbidden"


def roles_for(resource: Resource, op: Op) -> list[Role]:
    return list(PERMISSIONS.get((resource, op), {}))


def scope_of(principal: Principal, resource: Resource, op: Op) -> Scope | None:
    return PERMISSIONS.get((resource, op), {}).get(principal.role)


def allowed(principal: Principal | None, resource: Resource, op: Op, jurisdiction: str | None = None) -> bool:
    if principal is None:
        return False
    try:
        authorise(principal, resource, op, jurisdiction)
    except Forbidden:
        return False
    return True


def authorise(
    principal: Principal | None, resource: Resource, op: Op, jurisdiction: str | Iterable[str] | None = None
) -> Scope:
    """Allow or refuse; on refusal the message says which roles may, and how to get there.

    ``jurisdiction`` is the division the resource belongs to (a booking's holding agency, a
    request's agency); several may be given where any one suffices (a booking is readable by the
    agency that booked it and by the one holding it now). Without one, the caller filters by the
    returned scope (lists)."""
    what = _WHAT.get((resource, op), f"{op.value} {resource.value}")
    if principal is None:
        raise NotAuthenticated(
            f"sign in to {what}: open /signin in a browser, or send 'Authorization: Bearer <token>' "
            "(mint a development token with `custody token --role ROLE`)"
        )
    scope = scope_of(principal, resource, op)
    if scope is None:
        who = ", ".join(r.label.lower() for r in roles_for(resource, op)) or "no one"
        role = principal.role.label.lower()
        article = "an" if role[:1] in "aeiou" else "a"
        raise Forbidden(f"{article} {role} may not {what}; this needs one of: {who}")
    if jurisdiction is None or scope == Scope.any:
        return scope
    places = [jurisdiction] if isinstance(jurisdiction, str) else list(jurisdiction)
    if not any(principal.covers(place) for place in places):
        # The record's own place is not named: it would tell a caller with no right to the record
        # where the person is held (found by a review).
        where = "agency" if scope == Scope.agency else "area of responsibility"
        raise Forbidden(
            f"this record is outside your {where} ({principal.jurisdiction}); "
            f"to {what} there, sign in as a user of the record's jurisdiction"
        )
    return scope
