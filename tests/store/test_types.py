"""The store's own column encodings write exactly what SQLAlchemy's would, so stores written before
them read, compare and sort the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from custody.store import json_text
from custody.store.types import UTCDateTime

SQLITE = sqlite.dialect()
SQLALCHEMY_DATETIME = DateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)
OURS = UTCDateTime().bind_processor(SQLITE)
ZONES = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60))


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=ZONES))
def test_sqlite_text_is_sqlalchemys_datetime_text_in_utc(moment: datetime) -> None:
    assert OURS is not None and SQLALCHEMY_DATETIME is not None
    assert OURS(moment) == SQLALCHEMY_DATETIME(moment.astimezone(UTC).replace(tzinfo=None))


@given(st.datetimes(timezones=ZONES), st.lists(ZONES, min_size=1, max_size=4))
def test_the_remembered_text_of_one_instant_is_its_text_in_every_zone(moment: datetime, zones: list[timezone]) -> None:
    """Seen once in one zone, the same instant in another zone still gets its own (equal) UTC text."""
    assert OURS is not None and SQLALCHEMY_DATETIME is not None
    for zone in zones:
        local = moment.astimezone(zone)
        assert OURS(local) == SQLALCHEMY_DATETIME(moment.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_text_refuses_naive_times_and_keeps_null() -> None:
    assert OURS is not None
    OURS(datetime(2020, 1, 1, 12, tzinfo=UTC))  # the same fields, remembered as an aware instant
    with pytest.raises(ValueError, match="naive"):
        OURS(datetime(2020, 1, 1, 12))
    assert OURS(None) is None
    assert OURS(datetime(2020, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5)))) == "2020-01-01 12:00:00.000000"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_columns_read_back_what_the_standard_library_would(value: object) -> None:
    assert json.loads(json_text.dumps(value)) == value
    assert json_text.loads(json.dumps(value)) == value


def test_encoded_json_is_stored_verbatim_and_plain_text_is_a_json_string() -> None:
    canonical = json_text.EncodedJSON('{"a":1,"b":"é"}')
    assert json_text.dumps(canonical) is canonical
    assert json_text.dumps("plain") == '"plain"'
    assert json.loads(json_text.dumps({1: "integer keys become strings"})) == {"1": "integer keys become strings"}
