"""An officer reads a dead letter as what it was about, and applies it again once its cause is put
right (found by a review: the listing showed only ids, and nothing could apply a letter again)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from custody.cli.main import app
from custody.domain.clock import ManualClock
from custody.domain.errors import Conflict, NotFound
from custody.exchange.worker import Outcome, apply
from custody.release.commands import ReleaseIn
from custody.service import Custody
from custody.store.models import AuditEntryRow, DeadLetterRow, MessageRow
from tests.release.detainer import booked, i247a

COOK = "ocd-division/country:us/state:il/county:cook"
DETAINER_ISSUED = "gov.custody.detainer.issued.v1"


def _request_in_transit(custody: Custody) -> tuple[str, MessageRow]:
    """A booking and a request whose message to the jail no one has delivered yet."""
    booking = booked(custody, COOK, "DL-1", "2017-08-16T01:00:00-05:00")
    request = i247a(custody, booking, "2017-08-16T05:00:00-05:00", delivered=False)
    with custody.unit() as unit:
        message = unit.session.scalars(
            select(MessageRow).where(MessageRow.subject == request, MessageRow.type == DETAINER_ISSUED)
        ).one()
        unit.session.expunge(message)
    return booking, message


def test_a_dead_letter_is_listed_with_what_it_is_about_and_applied_again_once_put_right(
    custody: Custody, clock: ManualClock, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    booking, message = _request_in_transit(custody)
    party = message.to_party
    # As if the store had refused it for a cause since put right: the envelope is kept as it came.
    with custody.unit() as unit:
        unit.session.add(
            DeadLetterRow(
                party=party,
                message_id=message.id,
                raw=message.envelope,
                reason="store unavailable",
                at=clock.now(),
            )
        )
    listed = CliRunner().invoke(app, ["exchange", "dead-letters"])
    assert listed.exit_code == 0, listed.output
    assert "gov.custody.detainer.issued.v1 about req_" in listed.output and "store unavailable" in listed.output
    with custody.unit() as unit:
        (letter,) = unit.session.scalars(select(DeadLetterRow.id))
    retried = CliRunner().invoke(app, ["exchange", "retry", str(letter)])
    assert retried.exit_code == 0, retried.output
    assert f"dead letter #{letter}: applied" in retried.output
    request = custody.booking_view(booking)["requests"][0]
    assert request["state"] == "decided"  # received and decided under Cook County's law
    with custody.unit() as unit:
        assert list(unit.session.scalars(select(DeadLetterRow.id))) == []
        (audited,) = unit.session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "DeadLetterRetried"))
    assert audited.data["outcome"] == "applied" and audited.actor.startswith("os:")


def test_a_dead_letter_refused_again_stays_with_its_new_reason(
    custody: Custody, clock: ManualClock, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_DATABASE_URL", store_url)
    booking, message = _request_in_transit(custody)
    custody.release_eligible(booking, ReleaseIn.model_validate({"reason": "bail", "at": "2017-08-16T06:00:00-05:00"}))
    assert apply(custody, message.to_party, message.envelope, message.id) == Outcome.dead  # the person had left
    with custody.unit() as unit:
        (letter,) = unit.session.scalars(select(DeadLetterRow.id))
    retried = CliRunner().invoke(app, ["exchange", "retry", str(letter)])
    # (`custody` itself answers such a refusal with exit 2 and its one line: tests/cli/test_cli.py)
    assert isinstance(retried.exception, Conflict) and "was refused again" in str(retried.exception)
    with custody.unit() as unit:
        (again,) = unit.session.scalars(select(DeadLetterRow))
    assert "arrived after the person left" in again.reason  # one letter, as refused this time
    missing = CliRunner().invoke(app, ["exchange", "retry", "999"])
    assert isinstance(missing.exception, NotFound) and "no dead letter #999" in str(missing.exception)
