"""Envelopes validated at both ends; anything unusable goes to the dead-letter store with the reason,
never half-applied; a message delivered twice has its effect once."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from fuzz._common import CORPUS
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from custody.exchange import asyncapi, envelope, nats
from custody.exchange.catalogue import BY_TYPE, CATALOGUE
from custody.exchange.envelope import SCHEMAS, build, parse
from custody.exchange.worker import Outcome, apply
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeadLetterRow, EventRow, InboxRow, MessageRow

LOCAL = f"local:{seed_scenarios.COOK}"


def _cancel_envelope(request_id: str, booking_id: str, reason: str = "withdrawn") -> str:
    message = build(
        "msg_test_1",
        BY_TYPE["gov.custody.request.cancelled.v1"],
        "urn:custody:federal",
        request_id,
        datetime.now(UTC),
        LOCAL,
        {"request_id": request_id, "booking_id": booking_id, "reason": reason},
    )
    return message.to_json().decode()


MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))]),
)


def _cancellation(message_id: str, moment: datetime, reason: str) -> envelope.Message:
    return build(
        message_id,
        BY_TYPE["gov.custody.request.cancelled.v1"],
        "urn:custody:federal",
        "req_1",
        moment,
        LOCAL,
        {"request_id": "req_1", "booking_id": "bkg_1", "reason": reason},
    )


def _dead(custody: Custody) -> list[str]:
    with custody.unit() as unit:
        return [r.reason for r in unit.session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id))]


def test_every_catalogued_type_has_a_schema_and_the_asyncapi_document_is_current() -> None:
    for message_type in CATALOGUE:
        schema = json.loads((SCHEMAS / message_type.schema_file).read_text())
        assert schema["type"] == "object" and schema["required"], message_type.type
    published = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
    assert published.read_text() == asyncapi.render(), "regenerate: python -m custody.exchange.asyncapi"


def test_every_message_sent_in_the_process_validates_and_is_applied_once(custody: Custody) -> None:
    seed_scenarios.miami_dade_transferred(custody)
    with custody.unit() as unit:
        sent = unit.session.scalar(select(func.count()).select_from(MessageRow)) or 0
        applied = unit.session.scalar(select(func.count()).select_from(InboxRow)) or 0
    assert sent >= 7 and applied == sent
    assert _dead(custody) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "not a CloudEvents 1.0 JSON envelope"),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "s",
                    "type": "gov.custody.nope.v1",
                    "subject": "s",
                    "toparty": LOCAL,
                    "data": {},
                }
            ),
            "unknown message type gov.custody.nope.v1",
        ),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "s",
                    "type": "gov.custody.request.cancelled.v9",
                    "subject": "s",
                    "toparty": LOCAL,
                    "data": {},
                }
            ),
            "unsupported version",
        ),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "s",
                    "type": "gov.custody.request.cancelled.v1",
                    "subject": "s",
                    "toparty": LOCAL,
                    "data": {"request_id": "r"},
                }
            ),
            "'booking_id' is a required",
        ),
    ],
)
def test_unusable_messages_are_dead_lettered_with_the_reason(custody: Custody, raw: str, reason: str) -> None:
    assert apply(custody, LOCAL, raw) == Outcome.dead
    (dead,) = _dead(custody)
    assert reason in dead


def test_a_message_for_an_unknown_request_is_dead_lettered_and_changes_nothing(custody: Custody) -> None:
    with custody.unit() as unit:
        before = unit.session.scalar(select(func.count()).select_from(EventRow))
    assert apply(custody, LOCAL, _cancel_envelope("req_unknown", "bkg_unknown")) == Outcome.dead
    assert "no federal request 'req_unknown'" in _dead(custody)[0]
    with custody.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(EventRow)) == before


def test_a_message_delivered_twice_has_its_effect_once(custody: Custody) -> None:
    outcome = seed_scenarios._miami_dade_detained(custody, "FBI-TWICE", "MDCR-TWICE")
    raw = _cancel_envelope(outcome.request_id, outcome.booking_id).replace(LOCAL, f"local:{seed_scenarios.MIAMI_DADE}")
    party = f"local:{seed_scenarios.MIAMI_DADE}"
    assert apply(custody, party, raw) == Outcome.applied
    assert apply(custody, party, raw) == Outcome.duplicate
    view = custody.booking_view(outcome.booking_id)
    assert [e["type"] for e in view["timeline"]].count("RequestWithdrawn") == 1
    # sent now, years after the hold's limit: the hold lapsed at it, and the cancellation is recorded
    assert view["state"] == "released" and view["holds"][0]["state"] == "lapsed"


def test_a_message_for_another_party_is_refused(custody: Custody) -> None:
    raw = _cancel_envelope("req_x", "bkg_x")
    assert apply(custody, "federal", raw) == Outcome.dead
    assert "not federal" in _dead(custody)[0]


@given(moment=MOMENTS, reason=st.text(min_size=1, max_size=30))
def test_an_envelope_written_without_the_sdk_is_the_sdks_envelope_both_ways(moment: datetime, reason: str) -> None:
    """``to_json`` and ``parse`` skip the SDK's encoder and its second decoding (issue 8); what they
    write and read must stay what the CloudEvents SDK writes and reads."""
    message = _cancellation("msg_test_2", moment, reason)
    sdk = JSONFormat()
    attributes = {
        "id": message.id,
        "source": message.source,
        "type": message.type.type,
        "subject": message.subject,
        "time": message.time,
        "datacontenttype": "application/json",
        "dataschema": f"https://custody.invalid/schemas/{message.type.schema_file}",
        "toparty": message.to_party,
    }
    written_by_sdk = sdk.write(CloudEvent(attributes, message.data))
    assert json.loads(message.to_json()) == json.loads(written_by_sdk)
    read_by_sdk = sdk.read(CloudEvent, message.to_json())
    assert read_by_sdk.get_attributes() == {"specversion": "1.0", **attributes}
    assert read_by_sdk.get_data() == message.data
    assert parse(written_by_sdk) == message


@given(moment=MOMENTS, reason=st.text(min_size=1, max_size=30))
def test_an_envelope_this_process_checked_reads_back_as_the_full_check_reads_it(moment: datetime, reason: str) -> None:
    """The in-process transport hands a message back to the process that built it; ``parse`` then
    skips the checks it is known to pass (issue 8) and must return exactly what they would."""
    message = _cancellation("msg_test_3", moment, reason)
    raw = message.to_json()
    assert envelope._digest(raw) in envelope._checked
    remembered = parse(raw.decode())
    assert envelope._digest(raw) not in envelope._checked  # read back once; again, in full
    checked_in_full = parse(raw)
    assert remembered == checked_in_full == message
    assert type(remembered.time.tzinfo) is type(checked_in_full.time.tzinfo)
    assert remembered.time.utcoffset() == checked_in_full.time.utcoffset()


def test_only_envelopes_built_with_their_checks_are_remembered_and_then_only_their_own_text() -> None:
    unchecked = envelope.Message(
        "msg_test_4", BY_TYPE["gov.custody.request.cancelled.v1"], "urn:custody:federal", "req_1",
        datetime.now(UTC), LOCAL, {"request_id": "req_1"},  # no booking_id, no reason: fails the schema
    )  # fmt: skip
    with pytest.raises(envelope.MessageRefused, match="booking_id"):
        parse(unchecked.to_json())
    checked = _cancel_envelope("req_1", "bkg_1")
    altered = checked.replace('"reason":"withdrawn"', '"reason":""')  # another text, checked in full
    assert altered != checked
    with pytest.raises(envelope.MessageRefused, match="reason"):
        parse(altered)


def test_the_remembered_envelopes_are_bounded_oldest_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope, "_checked", {})
    monkeypatch.setattr(envelope, "CHECKED_KEPT", 2)
    texts = [_cancel_envelope(f"req_{i}", "bkg_1").encode() for i in range(3)]
    assert list(envelope._checked) == [envelope._digest(t) for t in texts[1:]]


def test_prepare_compiles_every_message_types_schema_before_its_first_message() -> None:
    envelope._fast_validator.cache_clear()
    envelope.prepare()
    assert envelope._fast_validator.cache_info().currsize == len(CATALOGUE)
    before = envelope._fast_validator.cache_info().misses
    for message_type in CATALOGUE:
        envelope._fast_validator(message_type)
    assert envelope._fast_validator.cache_info().misses == before


def _fingerprints_submitted(booked_at: str) -> dict[str, Any]:
    """The seed scenarios' envelope of a booking's prints for the federal search, booked at ``booked_at``."""
    shape: dict[str, Any] = json.loads((CORPUS / "worker_apply" / "booking.fingerprints_submitted.v1.json").read_text())
    shape["data"]["booked_at"] = booked_at
    return shape


@pytest.mark.parametrize(
    "booked_at", ["garbage", "2017-08-16T25:00:00Z", "2017-08-16T10:00:00", "2017-02-30T10:00:00Z", "2017-08-16"]
)
def test_a_date_time_that_is_not_rfc_3339_is_refused_at_both_ends(booked_at: str) -> None:
    """Found by a review: ``format: date-time`` was never checked (jsonschema checks it only with a
    package custody does not install), so such a time passed, and the handler raised instead."""
    shape = _fingerprints_submitted(booked_at)
    with pytest.raises(envelope.MessageRefused, match=r"booked_at: .* is not a 'date-time'"):
        parse(json.dumps(shape))
    message_type = BY_TYPE["gov.custody.booking.fingerprints_submitted.v1"]
    with pytest.raises(ValueError, match="custody tried to send an invalid message"):
        build("msg_x", message_type, "urn:custody:x", "bkg_x", datetime.now(UTC), "federal", shape["data"])


def test_an_rfc_3339_date_time_with_its_offset_passes() -> None:
    for booked_at in ("2017-08-16T10:00:00Z", "2017-08-16T10:00:00.25-05:00", "2017-08-16T23:59:59+14:00"):
        assert parse(json.dumps(_fingerprints_submitted(booked_at))).data["booked_at"] == booked_at


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"time": None}, "the envelope has no 'time'"),
        ({"time": "20170301T062000Z"}, "time is not an RFC 3339 date-time with its offset"),  # ISO 8601 basic
        ({"datacontenttype": "text/plain"}, "datacontenttype 'text/plain' is not application/json"),
    ],
)
def test_an_envelope_without_its_time_or_with_data_not_in_json_is_refused(
    change: dict[str, str | None], reason: str
) -> None:
    """Found by a review: the CloudEvents SDK stamped an envelope without a time with the receiving
    process's clock, and custody took data of any declared content type as JSON."""
    shape = _fingerprints_submitted("2017-03-01T06:20:00+00:00")
    shape.update(change)
    shape = {key: value for key, value in shape.items() if value is not None}
    with pytest.raises(envelope.MessageRefused, match=re.escape(reason)):
        parse(json.dumps(shape))
    parse(json.dumps({**shape, **_fingerprints_submitted("2017-03-01T06:20:00+00:00")}))  # and as sent, it passes


def test_the_asyncapi_document_describes_the_envelopes_that_travel_and_their_subjects(custody: Custody) -> None:
    """Found by a review: the document gave a message's data as its payload and its attributes as
    headers; the whole envelope travels in the body, with the Nats-Msg-Id header, on a subject whose
    division has / and : replaced."""
    seed_scenarios.miami_dade_transferred(custody)
    document = asyncapi.document()
    by_type = {m["name"]: m for m in document["components"]["messages"].values()}
    with custody.unit() as unit:
        sent = list(unit.session.scalars(select(MessageRow)))
    for message in sent:
        published = by_type[message.type]
        jsonschema.Draft202012Validator(published["payload"]).validate(json.loads(message.envelope))
        jsonschema.Draft202012Validator(published["headers"]).validate({"Nats-Msg-Id": message.id})
    local = document["channels"]["local"]["address"]
    division = seed_scenarios.MIAMI_DADE.replace("/", "_").replace(":", "_")
    assert local.format(division=division) == nats.subject_for(f"local:{seed_scenarios.MIAMI_DADE}", "custody")
