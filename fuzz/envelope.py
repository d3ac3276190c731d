"""Fuzz the CloudEvents/message parser: ``custody.exchange.envelope.parse`` on arbitrary bytes, as
bytes and as text, and on JSON envelopes edited structurally (see ``fuzz/_json_edits.py``).

Expected refusal: ``MessageRefused`` (the worker dead-letters it with the reason). A message that
parses must name a catalogued type and carry data that satisfies that type's schema.
"""

from __future__ import annotations

import json
from typing import Any

from fuzz._common import instrumented, main
from fuzz._json_edits import SKIP, document
from fuzz.known import passing_known

with instrumented(__name__ == "__main__", ["custody.exchange", "cloudevents"]):
    from custody.exchange.catalogue import BY_TYPE
    from custody.exchange.envelope import MessageRefused, parse

NAME = "envelope"
EXPECTED: tuple[type[BaseException], ...] = (MessageRefused,)
KEYS = [
    "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "toparty", "data",
    "data_base64", "request_id", "booking_id", "agency", "kind", "form", "actions", "warrant", "officer",
    "issued_at", "reason",
]  # fmt: skip
PALETTE: list[Any] = [
    None, True, 0, -1, 1.5, "", [], {}, "1.0", "0.3", "2.0", "msg_fuzz",
    "2017-03-01T11:05:00Z", "2017-03-01T11:05:00", "2017-13-01T00:00:00Z", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "2017-03-01", "not a time", "gov.custody.request.cancelled.v1", "gov.custody.request.cancelled.v2",
    "gov.custody.detainer.issued.v1", "gov.custody.hold.lapsed.v1", "gov.custody", ".v1", "federal",
    "local:ocd-division/country:us/state:fl/county:miami-dade", "local:*", "application/json", "text/plain",
    "aGVsbG8=", "%%%", "\u0000", "\ud800",
]  # fmt: skip


def _parse_one(raw: bytes | str) -> None:
    try:
        message = parse(raw)
    except EXPECTED:
        return
    if BY_TYPE.get(message.type.type) is not message.type or not isinstance(message.data, dict):
        raise AssertionError(f"parse returned an unchecked message: {message!r}")


def check(data: bytes) -> None:
    head = data.partition(b"\x00")[0]
    _parse_one(head)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        _parse_one(text)
    doc = document(data, PALETTE, KEYS)
    if doc is SKIP:
        return
    try:
        text = json.dumps(doc)
    except (RecursionError, ValueError):
        return
    _parse_one(text)


test_one_input = passing_known(NAME, check)

if __name__ == "__main__":
    main(test_one_input)
