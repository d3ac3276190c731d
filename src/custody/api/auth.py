"""Who is calling: the bearer token (or the browser's sign-in cookie), checked against the issuer.

A request without credentials is anonymous; each route then asks ``custody.access.policy`` whether
its caller may go on, so a protected route answers 401 (with ``WWW-Authenticate``) to the
anonymous and 403 to the wrong role or jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from custody.access import revocations
from custody.access.policy import InvalidCredentials, Op, Resource, authorise
from custody.access.roles import Principal
from custody.access.tokens import InvalidToken, Trusted

COOKIE = "custody_token"
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An OIDC-compatible JWT from custody's issuer: `custody token --role ROLE`, or sign in at /signin.",
)


def issuer_of(request: Request) -> Trusted:
    issuer: Trusted = request.app.state.issuer
    return issuer


def presented(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token the request carries: the bearer token, else the browser's sign-in cookie."""
    return credentials.credentials if credentials else request.cookies.get(COOKIE)


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None
) -> Principal | None:
    token = presented(request, credentials)
    if not token:
        return None
    try:
        verified = issuer_of(request).verify(token)
        if verified.token_id is not None:
            revoked: revocations.Revoked = request.app.state.revoked
            signed_out = revoked.signed_out_at(verified.token_id)
            if signed_out is not None:
                raise InvalidToken(f"the token was signed out at {signed_out.isoformat()}; {issuer_of(request).again}")
    except InvalidToken as exc:
        request.state.credentials = "invalid"
        if not credentials:
            # A browser whose cookie is no longer good (signed out elsewhere, expired) goes on signed
            # out, so that the sign-in page still opens (found by a review: every page answered 401)
            return None
        raise InvalidCredentials(str(exc)) from None
    # For the access log (custody.api.access_log): who read, and how they proved it.
    request.state.reader = verified.principal
    request.state.credentials = "bearer" if credentials else "cookie"
    return verified.principal


Caller = Annotated[Principal | None, Depends(caller)]


def _holding(who: Principal | None, resource: Resource, op: Op) -> Principal:
    authorise(who, resource, op)
    assert who is not None
    return who


def need(resource: Resource, op: Op) -> object:
    """A dependency: the caller must hold ``op`` on ``resource`` somewhere; the route then checks the
    jurisdiction of the particular record."""

    def check(who: Caller) -> Principal:
        return _holding(who, resource, op)

    return Depends(check)


@dataclass(frozen=True)
class Allowed:
    """A caller who holds ``op`` on ``resource`` somewhere, with that right: a route that changes a
    record checks the same right on that record, so the right is declared once, in the route's
    signature, and the two checks cannot drift apart."""

    who: Principal
    resource: Resource
    op: Op


def allowed(resource: Resource, op: Op) -> object:
    """``need``, for the routes that change one record: the dependency also carries the right."""

    def check(who: Caller) -> Allowed:
        return Allowed(_holding(who, resource, op), resource, op)

    return Depends(check)
