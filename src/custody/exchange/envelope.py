"""CloudEvents 1.0 envelopes (structured JSON mode), validated at both ends.

On the way out a message's ``data`` must satisfy its type's schema, or the sending transaction
fails (a bug, never a half-sent message). On the way in, an envelope that is not valid CloudEvents,
names an unknown type or version, or carries data that fails its schema is refused with the reason,
and the worker puts it in the dead-letter store.

Both checks are pure functions of the text. An envelope this process built, checked and encoded
that comes back to it (the in-process transport's queue is the store's own outbox) is known to pass
them, so it is remembered by digest and read back without repeating them; any other text, or one
forgotten, is checked in full.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import orjson
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent
from dateutil.parser import isoparse

from custody.domain.clock import isoformat
from custody.exchange.catalogue import BY_TYPE, CATALOGUE, MessageType

SCHEMAS = Path(__file__).parent / "schemas"
# Message ids and subjects are custody's own ids (at most 40 characters, the store's column width).
MAX_ID = 40
MAX_PARTY = 220  # the store's party columns (inbox, deliveries, dead letters)
FORMATS = ("date", "date-time")  # the formats the schemas use
# Digests of envelopes this process built and checked, oldest first, until read back once. Bounded:
# a message delivered by another process is never read back here, and a miss costs only the checks.
CHECKED_KEPT = 100_000
_checked: dict[bytes, None] = {}
_checked_lock = threading.Lock()  # the API server encodes and reads envelopes on many threads


class MessageRefused(Exception):
    """An incoming message that can never be applied; it goes to the dead-letter store with the
    reason, and to the log with ``logged``: the reason without the message's own values, which
    may be personal data (found by a review: a date of birth was logged)."""

    def __init__(self, reason: str, logged: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.logged = logged or reason


@cache
def _schema(message_type: MessageType) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / message_type.schema_file).read_text())
    return schema


# RFC 3339's date-time (section 5.6), with T and Z in upper case, as custody writes and reads them.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)


def is_date_time(instance: object) -> bool:
    """``format: date-time``: RFC 3339's grammar, and a moment that exists (month, day, hour,
    minute, second and offset in their ranges; a leap second, which no handler can keep, is not).
    jsonschema checks it only where the rfc3339-validator package is installed, and it is not:
    found by a review, "garbage", 25 o'clock and a time without offset passed, and the message's
    handler raised instead."""
    if not isinstance(instance, str):
        return True  # the schema's "type" says what a non-string is
    if _DATE_TIME.fullmatch(instance) is None:
        return False
    try:
        datetime.fromisoformat(instance)
    except ValueError:
        return False
    return True


@cache
def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's check of ``date`` and custody's own of ``date-time``."""
    checker = jsonschema.FormatChecker(("date",))
    checker.checks("date-time")(is_date_time)
    return checker


@cache
def _validator(message_type: MessageType) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(_schema(message_type))
    return cls(_schema(message_type), format_checker=_format_checker())


@cache
def _fast_validator(message_type: MessageType) -> Callable[[Any], Any]:
    """The same schema compiled to Python once (about ten times quicker on every message), with
    the same format checks; jsonschema stays the authority and words any refusal."""
    formats = {name: partial(_format_checker().conforms, format=name) for name in FORMATS}
    return fastjsonschema.compile(_schema(message_type), formats=formats)


def prepare() -> None:
    """Compile every message type's schema now (about 70 ms for the catalogue) rather than at each
    type's first message: a server answers its first requests as quickly as the rest, and a
    benchmark measures the exchange, not its start (issue 8)."""
    for message_type in CATALOGUE:
        _fast_validator(message_type)


def _check_data(message_type: MessageType, data: Any) -> None:
    try:
        _fast_validator(message_type)(data)
        return
    except fastjsonschema.JsonSchemaException:
        pass
    errors = sorted(_validator(message_type).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = f"{message_type.type}: " + ("/".join(str(p) for p in errors[0].absolute_path) or "(data)")
        raise MessageRefused(f"{where}: {errors[0].message}", f"{where}: {_rule(errors[0])}")


def _rule(error: jsonschema.ValidationError) -> str:
    """The schema's rule that data broke, in words of the schema alone: none of the data's values."""
    rule = json.dumps(error.validator_value)
    return f"breaks the schema's {error.validator} rule" + (f" ({rule})" if len(rule) <= 80 else "")


@dataclass(frozen=True)
class Message:
    id: str
    type: MessageType
    source: str
    subject: str
    time: datetime
    to_party: str
    data: dict[str, Any]
    # Built by ``build``, its data checked against the schema: its envelope is remembered as checked.
    checked: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> bytes:
        """The structured-mode envelope, as the CloudEvents SDK's JSON format writes it (``time`` in
        RFC 3339 with ``Z``), encoded directly: every message is written once and the SDK's event
        object and encoder cost more than the message itself (issue 8). ``parse`` reads it back
        through the SDK, which stays the authority on what a valid envelope is."""
        raw = orjson.dumps(
            {
                "specversion": "1.0",
                "id": self.id,
                "source": self.source,
                "type": self.type.type,
                "subject": self.subject,
                "time": _rfc3339(self.time),
                "datacontenttype": "application/json",
                "dataschema": dataschema(self.type),
                "toparty": self.to_party,
                "data": self.data,
            },
            option=orjson.OPT_NON_STR_KEYS,
        )
        if self.checked:
            _remember(raw)
        return raw


def dataschema(message_type: MessageType) -> str:
    """The envelope's ``dataschema``: where its type's schema of ``data`` is named."""
    return f"https://custody.invalid/schemas/{message_type.schema_file}"


def _digest(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


def _remember(raw: bytes) -> None:
    digest = _digest(raw)
    with _checked_lock:
        if len(_checked) >= CHECKED_KEPT:
            del _checked[next(iter(_checked))]
        _checked[digest] = None


def _was_checked(raw: bytes) -> bool:
    """Whether this process built, checked and encoded exactly this text (and forget it)."""
    digest = _digest(raw)
    with _checked_lock:
        return _checked.pop(digest, False) is None


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a message's time must be aware")
    text = isoformat(moment)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def build(
    message_id: str,
    event_type: MessageType,
    source: str,
    subject: str,
    time: datetime,
    to_party: str,
    data: dict[str, Any],
) -> Message:
    """A message for sending: its data is checked against the type's schema first."""
    try:
        _check_data(event_type, data)
    except MessageRefused as exc:
        raise ValueError(f"custody tried to send an invalid message ({exc.reason})") from exc
    return Message(message_id, event_type, source, subject, time, to_party, data, checked=True)


def _cloud_event(shape: dict[str, Any]) -> CloudEvent:
    """What the SDK's ``JSONFormat.read`` does with a CloudEvents 1.0 envelope, from the object already
    decoded (the SDK would decode the text a second time): the time read by the same parser, ``data``
    (or ``data_base64``) apart, and the SDK's event, whose constructor checks every attribute."""
    attributes = dict(shape)
    if "time" in attributes:
        attributes["time"] = isoparse(attributes["time"])
    data = attributes.pop("data", None)
    if data is None and attributes.get("data_base64") is not None:
        data = base64.b64decode(attributes.pop("data_base64"))
    return CloudEvent(attributes, data)


def parse(raw: bytes | str) -> Message:
    """Read and check an incoming envelope; raise MessageRefused with the reason if it is unusable."""
    # A lone surrogate cannot be in a text this process encoded; "surrogatepass" keeps it from
    # raising here, so that the checks below refuse it as before.
    text = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _was_checked(text):
        return _read_checked(text)
    try:
        shape = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MessageRefused(f"not a CloudEvents 1.0 JSON envelope: {exc}") from None
    if not isinstance(shape, dict):
        raise MessageRefused(f"not a CloudEvents 1.0 JSON envelope: a JSON {type(shape).__name__}, not an object")
    # A toparty too long for the store failed its inbox row on PostgreSQL (found by a review).
    for attribute, longest in (("id", MAX_ID), ("subject", MAX_ID), ("toparty", MAX_PARTY)):
        value = shape.get(attribute)
        if isinstance(value, str) and len(value) > longest:
            raise MessageRefused(f"envelope {attribute} is longer than {longest} characters")
    try:
        event = _cloud_event(shape)
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MessageRefused(f"not a CloudEvents 1.0 JSON envelope: {exc}") from None
    attributes = event.get_attributes()
    message_type = BY_TYPE.get(attributes["type"])
    if message_type is None:
        known_base = {t.rsplit(".v", 1)[0] for t in BY_TYPE}
        base = str(attributes["type"]).rsplit(".v", 1)[0]
        if base in known_base:
            raise MessageRefused(f"unsupported version of {base}: {attributes['type']} (this custody reads v1)")
        raise MessageRefused(f"unknown message type {attributes['type']}")
    data = event.get_data()
    if not isinstance(data, dict):
        raise MessageRefused(f"{message_type.type}: data must be a JSON object")
    _check_data(message_type, data)
    _check_attributes(message_type, shape)
    return Message(
        id=str(attributes["id"]),
        type=message_type,
        source=str(attributes["source"]),
        subject=str(attributes["subject"]),
        time=attributes["time"],
        to_party=str(attributes["toparty"]),
        data=data,
    )


def _check_attributes(message_type: MessageType, shape: dict[str, Any]) -> None:
    """What custody needs of an envelope beyond CloudEvents: a subject, the party it is for, and the
    time it was sent, in RFC 3339 with its offset (found by a review: the SDK stamped an envelope
    without a time with the receiver's clock); and data in JSON, the only content custody reads."""
    for required in ("subject", "toparty", "time"):
        if not shape.get(required):
            raise MessageRefused(f"{message_type.type}: the envelope has no '{required}'")
    if not isinstance(shape["time"], str) or not is_date_time(shape["time"]):
        raise MessageRefused(f"{message_type.type}: the envelope's time is not an RFC 3339 date-time with its offset")
    content_type = str(shape.get("datacontenttype", "application/json"))
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise MessageRefused(f"{message_type.type}: datacontenttype {content_type!r} is not application/json")


# The time of a text this process wrote, read by the parser ``parse`` uses; remembered, since the
# messages of one transaction share their times (half of them in the benchmark). Only for such texts:
# any other goes through ``isoparse`` itself, whatever its "time" holds.
_remembered_time = lru_cache(maxsize=4096)(isoparse)


def _read_checked(raw: bytes) -> Message:
    """An envelope this process wrote with ``Message.to_json`` after checking it: what ``parse``
    returns for it, without the checks it is known to pass."""
    shape = orjson.loads(raw)
    return Message(
        id=shape["id"],
        type=BY_TYPE[shape["type"]],
        source=shape["source"],
        subject=shape["subject"],
        time=_remembered_time(shape["time"]),
        to_party=shape["toparty"],
        data=shape["data"],
    )
