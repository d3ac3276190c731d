"""Request bodies are bounded before they are read: a booking or a request is a few kilobytes of JSON,
a ten-print upload a few megabytes of images; twenty megabytes of aliases is a mistake or an attack,
and is refused with 413 before the server parses, validates or stores any of it."""

from __future__ import annotations

from starlette.types import Scope

from custody.api.problems import Refusing
from custody.domain.inputs import JSON_BODY

FILES_BODY = 64 << 20  # 64 MiB: multipart uploads (fingerprint images, ANSI/NIST transactions)


class BodyLimit(Refusing):
    """Refuses a body whose declared length (``Content-Length``) is over its kind's limit."""

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = dict(scope["headers"])
        files = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = FILES_BODY if files else JSON_BODY
        declared = headers.get(b"content-length", b"")
        if not (declared.isdigit() and int(declared) > limit):
            return None
        what = "a file upload" if files else "a JSON or form body"
        return (
            413,
            "Content too large",
            f"the body is {int(declared):,} bytes; {what} may be at most {limit:,}. Send less: a booking "
            "takes its prints as separate uploads (POST /bookings/{id}/fingerprints)",
        )
