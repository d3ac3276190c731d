"""What each party does with the messages it receives. One function per message type, given the
messages of that type that came one after another, in order (one, or a run of a claimed batch); the
worker runs it in the same transaction that records them in the party's inbox."""

from __future__ import annotations

from collections.abc import Callable

from custody.exchange.envelope import Message
from custody.identity import service as identity
from custody.release import service as release
from custody.requests import service as requests
from custody.store.unit import Unit


def _cancel(unit: Unit, message: Message) -> None:
    # A hold whose limit passed before the cancellation came lapsed then, whether or not a timer
    # has run since (found by a review: the cancellation rewrote it as cancelled, a day before the
    # cancellation existed, and the federal side never heard that it lapsed).
    release.lapse_if_due(unit, message.data["request_id"], message.time)
    request = requests.apply_cancellation(unit, message.data, message.time)
    if request is not None:
        release.on_cancel(unit, request, message.time)


def _receive(unit: Unit, message: Message) -> None:
    requests.receive(unit, message.data)


def _record_only(unit: Unit, message: Message) -> None:
    """The federal side keeps these as its record: the message (its outbox row), marked applied by
    the inbox row; nothing else changes."""


Handler = Callable[[Unit, list[Message]], None]


def _each(handle: Callable[[Unit, Message], None]) -> Handler:
    """A message type whose messages are applied one at a time."""

    def handle_all(unit: Unit, messages: list[Message]) -> None:
        for message in messages:
            handle(unit, message)

    return handle_all


HANDLERS: dict[str, Handler] = {
    "gov.custody.booking.fingerprints_submitted.v1": lambda u, ms: identity.identify_all(u, [m.data for m in ms]),
    "gov.custody.identification.responded.v1": lambda u, ms: identity.record_identifications(u, [m.data for m in ms]),
    "gov.custody.detainer.issued.v1": _each(_receive),
    "gov.custody.notification_request.issued.v1": _each(_receive),
    "gov.custody.transfer_request.issued.v1": _each(_receive),
    "gov.custody.request.cancelled.v1": _each(_cancel),
    "gov.custody.request.responded.v1": _each(_record_only),
    "gov.custody.request.redecided.v1": _each(_record_only),
    "gov.custody.release.notified.v1": _each(_record_only),
    "gov.custody.hold.started.v1": _each(_record_only),
    "gov.custody.custody.transferred.v1": _each(_record_only),
    "gov.custody.hold.lapsed.v1": _each(_record_only),
    "gov.custody.person.released.v1": _each(_record_only),
}
