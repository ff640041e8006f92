"""Business-time arithmetic on a calendar: pure functions, no database.

A calendar is open at an instant when the wall clock of its time zone, at that instant,
shows a time inside one of the intervals of that local date's weekday, and the date is
not a holiday. Business time is the real time during which it is open. So a day whose
clocks go forward has an hour less of it where its intervals cover the skipped hour, and
a day whose clocks go back repeats the repeated hour's business time.

A calendar with no open time at all (no intervals, or holidays on every day) never
reaches a target: `business_time_add` answers None, and `business_seconds_between` 0.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

# Offsets of real zones lie within ±14 hours: a local date's instants lie within this of
# the date taken as UTC.
_ZONE_REACH_SECONDS = 15 * 3600
# Offsets are sampled this often when looking for a zone's transitions (none is closer
# to the next), then each change is found to the second.
_SAMPLE_SECONDS = 3600
# A calendar without a single open day this far beyond its last one-off holiday has none.
_SEARCH_DAYS = 400


@dataclass(frozen=True)
class Calendar:
    """When a calendar is open. `weekly`: for Monday to Sunday, the open intervals as
    (start, end) minutes of the local day, sorted and apart (end may be 1440, midnight);
    `holidays`: closed dates; `yearly_holidays`: closed (month, day) of every year."""

    time_zone: str
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()

    @property
    def has_open_time(self) -> bool:
        return any(self.weekly) and len(self.yearly_holidays) < 366

    def is_closed_on(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays


def business_time_add(
    calendar: Calendar | None, start: datetime, seconds: float
) -> datetime | None:
    """The instant at which `seconds` of business time have passed since `start` (round
    the clock when the calendar is None); None when the calendar never opens again."""
    if calendar is None:
        return start + timedelta(seconds=seconds)
    if seconds <= 0:
        return start
    if not calendar.has_open_time:
        return None
    at = start.timestamp()
    remaining = float(seconds)
    day = _local_date(calendar.time_zone, at)
    last_day = _last_searched_day(calendar, day)
    while day <= last_day:
        for opens, closes in _open_segments(calendar, day):
            opens = max(opens, at)
            if closes <= opens:
                continue
            if closes - opens >= remaining:
                return datetime.fromtimestamp(opens + remaining, tz=UTC)
            remaining -= closes - opens
            # Reaching any real time keeps the search going from a fresh date.
            last_day = _last_searched_day(calendar, day)
        day += timedelta(days=1)
    return None


def business_seconds_between(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    """The business time from `start` to `end` in seconds (negative when end comes first)."""
    if end < start:
        return -business_seconds_between(calendar, end, start)
    if calendar is None:
        return (end - start).total_seconds()
    if not calendar.has_open_time:
        return 0.0
    low, high = start.timestamp(), end.timestamp()
    total = 0.0
    day = _local_date(calendar.time_zone, low)
    last_day = _local_date(calendar.time_zone, high)
    while day <= last_day:
        for opens, closes in _open_segments(calendar, day):
            total += max(0.0, min(closes, high) - max(opens, low))
        day += timedelta(days=1)
    return total


def business_minutes_between(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    return business_seconds_between(calendar, start, end) / 60


def business_time_add_minutes(
    calendar: Calendar | None, start: datetime, minutes: int
) -> datetime | None:
    return business_time_add(calendar, start, minutes * 60)


def _last_searched_day(calendar: Calendar, day: date) -> date:
    latest_holiday = max(calendar.holidays, default=day)
    return max(day, latest_holiday) + timedelta(days=_SEARCH_DAYS)


def _local_date(time_zone: str, at: float) -> date:
    return datetime.fromtimestamp(at, tz=_zone(time_zone)).date()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def _open_segments(calendar: Calendar, day: date) -> tuple[tuple[float, float], ...]:
    """The real-time spans (POSIX seconds, sorted) during which the calendar is open on
    its local date `day`."""
    if calendar.is_closed_on(day):
        return ()
    intervals = calendar.weekly[day.weekday()]
    if not intervals:
        return ()
    # The date's midnight as if the wall clock were UTC: an instant t shows wall time
    # t + offset, so a wall-time span [a, b) is the real span [a - offset, b - offset)
    # wherever the offset holds.
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    segments = []
    for begins, ends, offset in _offset_spans(
        calendar.time_zone, midnight - _ZONE_REACH_SECONDS, midnight + 86400 + _ZONE_REACH_SECONDS
    ):
        for start_minute, end_minute in intervals:
            opens = max(begins, midnight + start_minute * 60 - offset)
            closes = min(ends, midnight + end_minute * 60 - offset)
            if opens < closes:
                segments.append((opens, closes))
    return tuple(_merged(sorted(segments)))


def _merged(segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for opens, closes in segments:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _offset_spans(time_zone: str, low: float, high: float) -> list[tuple[float, float, float]]:
    """[low, high) cut where the zone's UTC offset changes: (begins, ends, offset seconds)."""
    spans = []
    begins, offset = low, _offset(time_zone, low)
    sample = low
    while sample < high:
        following = min(sample + _SAMPLE_SECONDS, high)
        following_offset = _offset(time_zone, following)
        if following_offset != offset:
            change = _first_with_offset(time_zone, sample, following, offset)
            spans.append((begins, change, offset))
            begins, offset = change, _offset(time_zone, change)
        sample = following
    spans.append((begins, high, offset))
    return spans


def _first_with_offset(time_zone: str, low: float, high: float, offset: float) -> float:
    """The first whole second after `low` (which has `offset`) with another offset."""
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(time_zone, middle) == offset:
            low = middle
        else:
            high = middle
    return high


def _offset(time_zone: str, at: float) -> float:
    offset = datetime.fromtimestamp(at, tz=_zone(time_zone)).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def business_time_is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether the calendar is open at this moment."""
    return business_seconds_between(calendar, at, at + timedelta(seconds=1)) > 0
