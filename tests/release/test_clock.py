"""Hold clocks around weekends and federal holidays, under both counting rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from custody.law.model import HoldClock
from custody.release.clock import hold_expires_at, is_excluded_day

CHICAGO = ZoneInfo("America/Chicago")


def _counted_hours(start: datetime, end: datetime, zone: ZoneInfo) -> float:
    """Hours between start and end that fall on a working day, counted minute by minute."""
    minutes, cursor, end = 0, start.astimezone(UTC), end.astimezone(UTC)
    while cursor < end:
        if not is_excluded_day(cursor.astimezone(zone).date()):
            minutes += 1
        cursor += timedelta(minutes=1)
    return minutes / 60


def test_a_clock_hours_hold_ends_48_hours_after_release_eligibility() -> None:
    friday = datetime(2017, 8, 18, 16, 0, tzinfo=CHICAGO)
    assert hold_expires_at(friday, 48, HoldClock.clock_hours, CHICAGO) == friday + timedelta(hours=48)


def test_the_regulation_skips_the_weekend_a_friday_release_is_held_into_tuesday() -> None:
    friday_4pm = datetime(2017, 8, 18, 16, 0, tzinfo=CHICAGO)
    expires = hold_expires_at(friday_4pm, 48, HoldClock.excluding_weekends_and_holidays, CHICAGO)
    assert expires.astimezone(CHICAGO) == datetime(2017, 8, 22, 16, 0, tzinfo=CHICAGO)


def test_the_regulation_skips_a_federal_holiday() -> None:
    friday_before_labor_day = datetime(2017, 9, 1, 9, 0, tzinfo=CHICAGO)
    expires = hold_expires_at(friday_before_labor_day, 48, HoldClock.excluding_weekends_and_holidays, CHICAGO)
    # Friday 15 h, then Sat, Sun and Labor Day (4 Sep) skipped, Tuesday 24 h, Wednesday 9 h.
    assert expires.astimezone(CHICAGO) == datetime(2017, 9, 6, 9, 0, tzinfo=CHICAGO)


def test_a_prohibited_hold_ends_at_release_eligibility() -> None:
    moment = datetime(2017, 8, 16, 15, 45, tzinfo=UTC)
    assert hold_expires_at(moment, 0, HoldClock.clock_hours, CHICAGO) == moment


moments = st.datetimes(min_value=datetime(2014, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=CHICAGO)
)


@settings(max_examples=40, deadline=None)
@given(moments, st.sampled_from([6, 24, 48]))
def test_the_weekend_rule_counts_exactly_the_hours_on_working_days(start: datetime, hours: int) -> None:
    start = start.replace(second=0, microsecond=0)
    expires = hold_expires_at(start, hours, HoldClock.excluding_weekends_and_holidays, CHICAGO)
    assert expires >= start + timedelta(hours=hours)
    assert abs(_counted_hours(start, expires, CHICAGO) - hours) < 1 / 60 + 1e-9
    assert not is_excluded_day((expires - timedelta(minutes=1)).astimezone(CHICAGO).date())


@settings(max_examples=200, deadline=None)
@given(moments, st.floats(min_value=0, max_value=48))
def test_no_hold_ever_runs_past_its_limit(start: datetime, hours: float) -> None:
    # Elapsed time is measured in UTC: Python subtracts two times of one zone on the wall clock.
    clock_end = hold_expires_at(start, hours, HoldClock.clock_hours, CHICAGO)
    assert clock_end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
    legacy_end = hold_expires_at(start, hours, HoldClock.excluding_weekends_and_holidays, CHICAGO)
    # Never longer than the hours plus the weekend and holiday days it may skip (at most 5 in a row).
    assert legacy_end.astimezone(UTC) - start.astimezone(UTC) <= timedelta(hours=hours) + timedelta(days=5)


def test_48_clock_hours_across_the_autumn_change_are_48_elapsed_hours() -> None:
    """Saturday 2 November 2024, 8 p.m. in Chicago: clocks go back at 2 a.m. on Sunday, so 48 elapsed
    hours end at 7 p.m. local time on Monday, not 8 p.m. (a zoned time plus 48 hours would give 8 p.m.,
    an hour past the limit; 47 hours in the spring)."""
    saturday = datetime(2024, 11, 2, 20, 0, tzinfo=CHICAGO)
    expires = hold_expires_at(saturday, 48, HoldClock.clock_hours, CHICAGO)
    assert expires.astimezone(CHICAGO) == datetime(2024, 11, 4, 19, 0, tzinfo=CHICAGO)
    spring = hold_expires_at(datetime(2024, 3, 9, 20, 0, tzinfo=CHICAGO), 48, HoldClock.clock_hours, CHICAGO)
    assert spring.astimezone(CHICAGO) == datetime(2024, 3, 11, 21, 0, tzinfo=CHICAGO)


NEWARK = ZoneInfo("America/New_York")


def test_a_hold_until_the_end_of_the_release_day_ends_at_11_59_pm_local_time() -> None:
    """New Jersey's directive as reported: a qualifying detainee may be kept only until 11:59 p.m. of
    the day of release eligibility, however many hours the detainer asks for."""
    afternoon = datetime(2019, 3, 15, 14, 30, tzinfo=NEWARK)
    expires = hold_expires_at(afternoon, 48, HoldClock.until_end_of_release_day, NEWARK)
    assert expires == datetime(2019, 3, 15, 23, 59, tzinfo=NEWARK)
    # Fewer hours than are left in the day: the hours end it first.
    assert hold_expires_at(afternoon, 2, HoldClock.until_end_of_release_day, NEWARK) == afternoon + timedelta(hours=2)
    # Eligible in the day's last minute: no time is left to hold.
    late = datetime(2019, 3, 15, 23, 59, 30, tzinfo=NEWARK)
    assert hold_expires_at(late, 48, HoldClock.until_end_of_release_day, NEWARK) == late


@settings(max_examples=100, deadline=None)
@given(moments, st.floats(min_value=24, max_value=48))
def test_the_strictest_clock_ends_a_hold_no_later_than_any_other(start: datetime, hours: float) -> None:
    """Where a form and a law each set a clock, the decision keeps the strictest: for limits of 24
    hours or more its hold ends first whatever the day (HoldClock.strictest)."""
    ends = {clock: hold_expires_at(start, hours, clock, CHICAGO) for clock in HoldClock}
    strictest = HoldClock.strictest(list(HoldClock))
    assert strictest is not None and ends[strictest] == min(ends.values())
    assert HoldClock.strictest([HoldClock.excluding_weekends_and_holidays, HoldClock.clock_hours]) is (
        HoldClock.clock_hours
    )
