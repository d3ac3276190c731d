"""Inputs the fuzzers (fuzz/envelope.py, fuzz/worker_apply.py) found that crash the message parser
instead of being refused with MessageRefused, and so escape the worker's dead-letter path: such a
message is retried MAX_ATTEMPTS times as if the database had failed, then dead-lettered without
its reason.
(Issue 9; fixed in the parser.)
"""

from __future__ import annotations

import json

import pytest
from fuzz._common import CORPUS
from sqlalchemy import select

from custody.exchange.envelope import MessageRefused, parse
from custody.exchange.worker import Outcome, apply
from custody.service import Custody
from custody.sim import seed_scenarios
from custody.store.models import DeadLetterRow

# A lone surrogate in a text (not an object either): it must be refused, not raise UnicodeEncodeError
# where the parser looks the text up among the envelopes it checked itself (issue 8, item 23).
NOT_OBJECTS = ["[]", '"x"', "[1, 2]", b'["specversion"]', '"\ud800"']


@pytest.mark.parametrize("raw", NOT_OBJECTS)
def test_json_that_is_not_an_object_is_refused(raw: str | bytes) -> None:
    with pytest.raises(MessageRefused, match=r"not a CloudEvents 1\.0 JSON envelope"):
        parse(raw)


def test_a_worker_dead_letters_json_that_is_not_an_object(custody: Custody) -> None:
    assert apply(custody, f"local:{seed_scenarios.COOK}", "[]", "msg_not_an_object") == Outcome.dead
    with custody.unit() as unit:
        (reason,) = unit.session.scalars(select(DeadLetterRow.reason))
    assert "not a CloudEvents 1.0 JSON envelope" in reason


def _responded(field: str, value: str) -> str:
    """The seed scenarios' RequestResponded envelope (a message the federal party only records) with
    one envelope attribute replaced."""
    envelope = json.loads((CORPUS / "worker_apply" / "request.responded.v1.json").read_text())
    envelope[field] = value
    return json.dumps(envelope)


@pytest.mark.parametrize(("field", "length"), [("id", 41), ("subject", 41), ("id", 81)])
def test_an_envelope_attribute_longer_than_its_column_is_dead_lettered(
    custody: Custody, field: str, length: int
) -> None:
    """CloudEvents puts no limit on id or subject; the inbox keeps them in VARCHAR(40) (and a dead
    letter's message id in VARCHAR(80)). PostgreSQL raised DataError, which escaped apply (SQLite
    stored the long value and applied the message). Found by probing the worker harness's envelopes
    against PostgreSQL; the fuzz run itself uses SQLite, which does not enforce lengths."""
    raw = _responded(field, "m" * length)
    assert apply(custody, "federal", raw, None) == Outcome.dead
    with custody.unit() as unit:
        (reason,) = unit.session.scalars(select(DeadLetterRow.reason))
    assert field in reason


def test_a_toparty_longer_than_the_party_columns_is_dead_lettered(custody: Custody) -> None:
    """A NATS worker serving every local agency takes the toparty of an envelope that came on that
    party's subject: one of 300 characters failed its inbox row on PostgreSQL with DataError, which
    escaped apply, at every delivery (found by a review)."""
    party = "local:" + "m" * 294
    assert apply(custody, party, _responded("toparty", party), "msg_long_party") == Outcome.dead
    with custody.unit() as unit:
        (reason,) = unit.session.scalars(select(DeadLetterRow.reason))
    assert reason == "envelope toparty is longer than 220 characters"
