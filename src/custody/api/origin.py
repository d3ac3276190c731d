"""A browser's form or script on another site cannot act with an officer's sign-in cookie.

The cookie is ``SameSite=Strict``, but a "site" is the registrable domain: a page on another port or
another subdomain of the same host counts as the same site and the browser sends the cookie with
its POST (found by a review: a form on another origin booked a person, and could sign an officer
in or out). Browsers name the page a request comes from in ``Origin`` (and ``Sec-Fetch-Site``); a
request that changes something, carries no bearer token and comes from another origin is refused.
A bearer token is never sent by a browser on its own, so requests that carry one are not checked;
command-line and server clients send no ``Origin`` and are not checked either.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

from custody.api.problems import Refusing

SAFE = {"GET", "HEAD", "OPTIONS"}
# Sec-Fetch-Site values of a request the user's own page (or the address bar) made.
OWN = {"same-origin", "none"}


def cross_origin(method: str, headers: dict[bytes, bytes]) -> str | None:
    """The other origin a state-changing, cookie-borne request came from, or None if it is the page's own."""
    if method in SAFE or b"authorization" in headers:
        return None
    host = headers.get(b"host", b"").decode("latin-1").lower()
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin:
        if origin == "null" or urlsplit(origin).netloc.lower() != host:
            return origin
        return None
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1")
    return fetch_site if fetch_site and fetch_site not in OWN else None


class SameOrigin(Refusing):
    """Refuses, with 403, a state-changing request a page of another origin made with the cookie."""

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        other = cross_origin(scope["method"], dict(scope["headers"]))
        if other is None:
            return None
        return (
            403,
            "Forbidden",
            f"a {scope['method']} from another origin ({other}) is refused: submit the form from custody's own "
            "pages, or call the API with a bearer token (custody token --role ROLE)",
        )
