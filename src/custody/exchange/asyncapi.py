"""Writes docs/asyncapi.yaml, the published message catalogue, from the catalogue and its schemas:
`python -m custody.exchange.asyncapi` (a test fails when the document is stale)."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import yaml

from custody import __version__
from custody.exchange.catalogue import CATALOGUE, MessageType, Sender
from custody.exchange.envelope import MAX_ID, MAX_PARTY, SCHEMAS, dataschema
from custody.exchange.nats import subject_for

_DESCRIPTIONS = {
    "federal": "Messages for the federal immigration agency.",
    "local": "Messages for the local custodial agencies, one subject per agency; a worker serving every "
    "local agency pulls custody.local.*.",
}
EXAMPLE_DIVISION = "ocd-division/country:us/state:il/county:cook"
# The attributes custody writes in every envelope, and what each holds.
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "specversion": {"const": "1.0"},
    "id": {"type": "string", "maxLength": MAX_ID, "description": "The message's id, also sent as Nats-Msg-Id."},
    "source": {"type": "string", "description": "urn:custody:federal, or urn:custody:local:<division> of the sender."},
    "subject": {"type": "string", "maxLength": MAX_ID, "description": "The booking or request it is about."},
    "time": {"type": "string", "format": "date-time", "description": "When it happened: RFC 3339, with its offset."},
    "datacontenttype": {"const": "application/json"},
    "toparty": {
        "type": "string",
        "maxLength": MAX_PARTY,
        "description": "The receiving party, federal or local:<division>: the party of the subject it travels on "
        "(a message on another party's subject goes to the dead letters).",
    },
}


def _envelope(message_type: MessageType) -> dict[str, Any]:
    """What travels as a message's body: the whole CloudEvents 1.0 envelope in structured mode, its
    attributes beside ``data`` (found by a review: the document gave ``data`` alone as the payload,
    and the attributes as headers, which they are not)."""
    schema = json.loads((SCHEMAS / message_type.schema_file).read_text())
    properties = {
        **copy.deepcopy(ATTRIBUTES),  # each message its own copy: YAML would write shared ones as anchors
        "type": {"const": message_type.type},
        "dataschema": {"const": dataschema(message_type)},
        "data": {k: v for k, v in schema.items() if k not in ("$schema", "$id")},
    }
    return {"type": "object", "required": [p for p in properties if p != "dataschema"], "properties": properties}


def _local_channel() -> dict[str, Any]:
    """The local agencies' subjects, named as ``subject_for`` names them."""
    example = subject_for(f"local:{EXAMPLE_DIVISION}", "custody")
    return {
        "address": "custody.local.{division}",
        "parameters": {
            "division": {
                "description": "The agency's Open Civic Data division id, each character other than A-Z, a-z, 0-9, "
                f"_ and - replaced by _: {EXAMPLE_DIVISION} travels on {example}."
            }
        },
    }


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name, address in (("federal", {"address": subject_for("federal", "custody")}), ("local", _local_channel())):
        channels[name] = {
            **address,
            "description": _DESCRIPTIONS[name],
            "messages": {
                m.event: {"$ref": f"#/components/messages/{m.event}"}
                for m in CATALOGUE
                if (m.sender is Sender.local) == (name == "federal")
            },
        }
        operations[f"receive_{name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"Workers of the {name} party consume these as a queue group and apply each once.",
        }
    for m in CATALOGUE:
        messages[m.event] = {
            "name": m.type,
            "title": m.event,
            "summary": m.summary,
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "required": ["Nats-Msg-Id"],
                "properties": {
                    "Nats-Msg-Id": {
                        "type": "string",
                        "description": "The envelope's id: JetStream drops the same message published again "
                        "within ten minutes (a relay stopped between publishing it and marking it published).",
                    }
                },
            },
            "payload": _envelope(m),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "custody inter-agency exchange",
            "version": __version__,
            "description": "Every message between local custodial agencies and the federal immigration agency, "
            "as CloudEvents 1.0 envelopes. Delivery is at least once with exactly-once effect "
            "(transactional outbox, idempotent inbox).",
            "license": {"name": "Apache-2.0"},
        },
        "servers": {"jetstream": {"host": "127.0.0.1:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    return "# Generated by `python -m custody.exchange.asyncapi`; do not edit.\n" + yaml.safe_dump(
        document(), sort_keys=False, allow_unicode=True, width=110
    )


if __name__ == "__main__":
    from custody.docs import write_generated

    sys.exit(write_generated(render(), "custody.exchange.asyncapi", "docs/asyncapi.yaml", sys.argv))
