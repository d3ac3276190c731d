"""Every message that passes between the local agencies and the federal agency.

A domain event addressed to another party becomes one of these messages, in the same transaction
(the outbox). Each type is versioned in its name (``…v1``) and has a JSON Schema for its ``data``
in ``schemas/``; both ends validate against it. docs/asyncapi.yaml is generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sender(StrEnum):
    local = "local"
    federal = "federal"


@dataclass(frozen=True)
class MessageType:
    type: str
    event: str
    sender: Sender
    summary: str

    @property
    def schema_file(self) -> str:
        return f"{self.type}.json"


CATALOGUE: tuple[MessageType, ...] = (
    MessageType(
        "gov.custody.booking.fingerprints_submitted.v1",
        "FingerprintsSubmitted",
        Sender.local,
        "A booking's identity and prints, submitted for search against the federal repository.",
    ),
    MessageType(
        "gov.custody.identification.responded.v1",
        "IdentificationResponded",
        Sender.federal,
        "Hit or no hit, with the federal record on a hit.",
    ),
    MessageType(
        "gov.custody.detainer.issued.v1",
        "DetainerIssued",
        Sender.federal,
        "An immigration detainer (I-247, I-247D, I-247A) for a booked person.",
    ),
    MessageType(
        "gov.custody.notification_request.issued.v1",
        "NotificationRequestIssued",
        Sender.federal,
        "A request to be told of the person's release (I-247N).",
    ),
    MessageType(
        "gov.custody.transfer_request.issued.v1",
        "TransferRequestIssued",
        Sender.federal,
        "A request to hand the person over at release (I-247X).",
    ),
    MessageType(
        "gov.custody.request.cancelled.v1", "RequestCancelled", Sender.federal, "The federal side withdraws a request."
    ),
    MessageType(
        "gov.custody.request.responded.v1",
        "RequestResponded",
        Sender.local,
        "The agency's answer to each action: honor or decline, with the decision's citations.",
    ),
    MessageType(
        "gov.custody.request.redecided.v1",
        "RequestRedecided",
        Sender.local,
        "At release, what the law in force that day no longer allows of the agency's answer: the actions"
        " withdrawn or the hold shortened, with the new decision's citations.",
    ),
    MessageType(
        "gov.custody.release.notified.v1",
        "ReleaseNoticeSent",
        Sender.local,
        "Advance notice of release, sent only where the answer honored it.",
    ),
    MessageType(
        "gov.custody.hold.started.v1",
        "DetainerHoldStarted",
        Sender.local,
        "The person is held on the detainer, until the given limit.",
    ),
    MessageType(
        "gov.custody.custody.transferred.v1",
        "CustodyTransferred",
        Sender.local,
        "The person was handed to federal officers.",
    ),
    MessageType(
        "gov.custody.hold.lapsed.v1",
        "DetainerHoldLapsed",
        Sender.local,
        "The hold reached its legal limit; the person was released.",
    ),
    MessageType(
        "gov.custody.person.released.v1",
        "PersonReleased",
        Sender.local,
        "The person left local custody (sent where a release notice was honored).",
    ),
)

BY_EVENT = {m.event: m for m in CATALOGUE}
BY_TYPE = {m.type: m for m in CATALOGUE}
