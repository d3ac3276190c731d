"""When a hold must end.

The I-247A and the 2015 forms ask to keep a person "not to exceed 48 hours beyond the time he or
she would otherwise have been released": 48 clock hours. 8 CFR 287.7(d) and the pre-2015 I-247
count 48 hours "excluding Saturdays, Sundays, and holidays": hours that fall on a weekend or a
federal holiday (in the agency's own time zone) do not count. Either way the law decision may
allow fewer hours, often none, or end the hold with the day the person became eligible for release
(``until_end_of_release_day``: 11:59 p.m. local time, as New Jersey's directive is reported to say).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from custody.law.model import HoldClock


@cache
def _federal_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year))


def is_excluded_day(day: date) -> bool:
    return day.weekday() >= 5 or day in _federal_holidays(day.year)


def hold_expires_at(eligible_at: datetime, hours: float, clock: HoldClock, zone: ZoneInfo) -> datetime:
    """The last moment a person may be held who became eligible for release at ``eligible_at``."""
    if hours <= 0:
        return eligible_at
    # Arithmetic in UTC: hours are elapsed hours, and local days are 23 or 25 hours long when daylight
    # saving time changes (adding hours to a zoned time would add wall-clock hours instead).
    cursor = eligible_at.astimezone(UTC)
    if clock is HoldClock.until_end_of_release_day:
        local_day = eligible_at.astimezone(zone).date()
        last_minute = datetime.combine(local_day, time(23, 59), tzinfo=zone).astimezone(UTC)
        return max(cursor, min(cursor + timedelta(hours=hours), last_minute))
    if clock is HoldClock.clock_hours:
        return cursor + timedelta(hours=hours)
    remaining = timedelta(hours=hours)
    while True:
        local_day = cursor.astimezone(zone).date()
        day_end = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        if not is_excluded_day(local_day):
            available = day_end - cursor
            if available >= remaining:
                return cursor + remaining
            remaining -= available
        cursor = day_end
