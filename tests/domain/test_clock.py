"""Remembered ISO texts are exactly ``datetime.isoformat``'s, whatever zone an instant comes in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from custody.domain.clock import isoformat

ZONES = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60))


@given(st.datetimes(timezones=ZONES | st.none()), st.lists(ZONES, min_size=1, max_size=4))
def test_isoformat_is_the_datetimes_own_in_every_zone(moment: datetime, zones: list[timezone]) -> None:
    assert isoformat(moment) == moment.isoformat()
    if moment.tzinfo is not None:
        for zone in zones:  # the same instant, seen first in another zone, keeps its own offset
            local = moment.astimezone(zone)
            assert isoformat(local) == local.isoformat()


def test_the_same_instant_in_two_zones_and_a_naive_time_with_its_fields_differ() -> None:
    utc = datetime(2017, 8, 16, 14, 30, tzinfo=UTC)
    chicago = utc.astimezone(timezone(timedelta(hours=-5)))
    assert [isoformat(utc), isoformat(chicago), isoformat(utc.replace(tzinfo=None))] == [
        "2017-08-16T14:30:00+00:00",
        "2017-08-16T09:30:00-05:00",
        "2017-08-16T14:30:00",
    ]
