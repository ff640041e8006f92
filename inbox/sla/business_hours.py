"""A calendar of business hours: its checks (each refusal worded for the admin who typed
it) and its arithmetic form, inbox.selectors.business_time.Calendar."""

import itertools
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils.translation import gettext

from inbox.selectors.business_time import MINUTES_PER_DAY, WEEKDAYS, Calendar
from inbox.sla.models import BusinessHours

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
MAX_INTERVALS_PER_DAY = 24
MAX_HOLIDAYS = 1000


class BusinessHoursInvalid(ValueError):
    """A value of a calendar that cannot be kept; `str()` says why, to the admin."""


def check_time_zone(value: Any) -> str:
    if not isinstance(value, str) or value not in _time_zone_names():
        raise BusinessHoursInvalid(
            gettext("%(value)s is not an IANA time zone (such as Europe/Warsaw)") % {"value": value}
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BusinessHoursInvalid(
            gettext("%(value)s is not an IANA time zone (such as Europe/Warsaw)") % {"value": value}
        ) from None
    return value


def _time_zone_names() -> set[str]:
    global _zones
    if _zones is None:
        _zones = available_timezones()
    return _zones


_zones: set[str] | None = None


def _minute_of_day(value: Any) -> int:
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise BusinessHoursInvalid(
            gettext('%(value)s is not a time as "HH:MM" (00:00 to 24:00)') % {"value": value}
        )
    if value == "24:00":
        return MINUTES_PER_DAY
    return int(match.group(1)) * 60 + int(match.group(2))


def check_weekly(value: Any) -> dict[str, list[list[str]]]:
    """{"mon": [["09:00", "13:00"], ["14:00", "18:00"]], ...}: each day's intervals "HH:MM",
    each starting before it ends, none overlapping another; days left out are closed.
    Answers it with the days in order and each day's intervals sorted."""
    if not isinstance(value, dict):
        raise BusinessHoursInvalid(
            gettext('weekly hours are an object of days ("mon" to "sun") and their intervals')
        )
    unknown = sorted(str(day) for day in value if day not in WEEKDAYS)
    if unknown:
        raise BusinessHoursInvalid(
            gettext(
                '%(day)s is not a day; days are "mon", "tue", "wed", "thu", "fri", "sat", "sun"'
            )
            % {"day": unknown[0]}
        )
    checked: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        intervals = value.get(day, [])
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise BusinessHoursInvalid(
                gettext('%(day)s: a list of at most %(count)s intervals ["HH:MM", "HH:MM"]')
                % {"day": day, "count": MAX_INTERVALS_PER_DAY}
            )
        spans = []
        for interval in intervals:
            if not isinstance(interval, list) or len(interval) != 2:
                raise BusinessHoursInvalid(
                    gettext('%(day)s: each interval is ["HH:MM", "HH:MM"]') % {"day": day}
                )
            start, end = (_minute_of_day(part) for part in interval)
            if start >= end:
                raise BusinessHoursInvalid(
                    gettext("%(day)s: %(start)s-%(end)s starts after it ends")
                    % {"day": day, "start": interval[0], "end": interval[1]}
                )
            spans.append((start, end, interval))
        spans.sort()
        for (_, earlier_end, earlier), (later_start, _, later) in itertools.pairwise(spans):
            if later_start < earlier_end:
                raise BusinessHoursInvalid(
                    gettext("%(day)s: %(first)s and %(second)s overlap")
                    % {"day": day, "first": "-".join(earlier), "second": "-".join(later)}
                )
        if spans:
            checked[day] = [list(interval) for _, _, interval in spans]
    return checked


def check_holidays(value: Any) -> list[str]:
    """Closed dates as "YYYY-MM-DD", sorted and each once."""
    if not isinstance(value, list) or len(value) > MAX_HOLIDAYS:
        raise BusinessHoursInvalid(
            gettext('holidays are a list of at most %(count)s dates "YYYY-MM-DD"')
            % {"count": MAX_HOLIDAYS}
        )
    days: set[date] = set()
    for item in value:
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError(item)
            days.add(date.fromisoformat(item))
        except ValueError:
            raise BusinessHoursInvalid(
                gettext('%(value)s is not a date as "YYYY-MM-DD"') % {"value": item}
            ) from None
    return [day.isoformat() for day in sorted(days)]


def check_yearly_holidays(value: Any) -> list[str]:
    """Days closed every year as "MM-DD" (02-29 in leap years only), sorted and each once."""
    if not isinstance(value, list) or len(value) > 366:
        raise BusinessHoursInvalid(gettext('yearly holidays are a list of days "MM-DD"'))
    days = set()
    for item in value:
        match = _MONTH_DAY.match(item) if isinstance(item, str) else None
        try:
            # A leap year, so that 02-29 is a day.
            date(2024, int(match.group(1)), int(match.group(2)))  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            raise BusinessHoursInvalid(
                gettext('%(value)s is not a day of the year as "MM-DD"') % {"value": item}
            ) from None
        days.add(item)
    return sorted(days)


def business_hours_calendar(business_hours: BusinessHours) -> Calendar:
    """The calendar's arithmetic form (of values already checked)."""
    return Calendar(
        time_zone=business_hours.time_zone,
        weekly=tuple(
            tuple(
                (_minute_of_day(start), _minute_of_day(end))
                for start, end in business_hours.weekly.get(day, [])
            )
            for day in WEEKDAYS
        ),
        holidays=frozenset(date.fromisoformat(day) for day in business_hours.holidays),
        yearly_holidays=frozenset(
            (int(day[:2]), int(day[3:])) for day in business_hours.yearly_holidays
        ),
    )
