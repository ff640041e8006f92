"""Business-time arithmetic, against a slow reference that walks real time minute by
minute and asks the zone's wall clock whether the calendar is open."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.selectors.business_time import (
    Calendar,
    business_minutes_between,
    business_seconds_between,
    business_time_add,
    business_time_add_minutes,
)

ZONES = (
    "Europe/Moscow",
    "Europe/Warsaw",
    "America/New_York",
    "Australia/Lord_Howe",  # clocks move by half an hour
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
)
MINUTE = timedelta(minutes=1)


def is_open_reference(calendar: Calendar, instant: datetime) -> bool:
    wall = instant.astimezone(ZoneInfo(calendar.time_zone))
    if calendar.is_closed_on(wall.date()):
        return False
    minute = wall.hour * 60 + wall.minute
    return any(start <= minute < end for start, end in calendar.weekly[wall.weekday()])


def add_reference(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    at, counted = start, 0
    while counted < minutes:
        if is_open_reference(calendar, at):
            counted += 1
        at += MINUTE
    return at if minutes else start


def between_reference(calendar: Calendar, start: datetime, end: datetime) -> int:
    at, counted = start, 0
    while at < end:
        counted += is_open_reference(calendar, at)
        at += MINUTE
    return counted


def calendar_of(time_zone: str, weekly: dict[int, list[tuple[int, int]]], **closed) -> Calendar:
    return Calendar(
        time_zone=time_zone,
        weekly=tuple(tuple(weekly.get(day, ())) for day in range(7)),
        **closed,
    )


@st.composite
def day_intervals(draw) -> tuple[tuple[int, int], ...]:
    bounds = sorted(set(draw(st.lists(st.integers(0, 1440), max_size=6))))
    pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
    return tuple((start, end) for start, end in pairs if start < end)


@st.composite
def calendars(draw) -> Calendar:
    weekly = tuple(draw(day_intervals()) for _ in range(7))
    if not any(weekly):
        weekly = (((540, 1080),), *weekly[1:])
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    yearly = draw(st.frozensets(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=10))
    return Calendar(
        time_zone=draw(st.sampled_from(ZONES)),
        weekly=weekly,
        holidays=holidays,
        yearly_holidays=yearly,
    )


# Whole minutes around the year's clock changes, where the arithmetic is hardest.
starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
).map(lambda at: at.replace(second=0, microsecond=0))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendar=calendars(), start=starts, minutes=st.integers(0, 2000))
def test_adding_business_minutes_agrees_with_walking_minute_by_minute(calendar, start, minutes):
    assert business_time_add_minutes(calendar, start, minutes) == add_reference(
        calendar, start, minutes
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendar=calendars(), start=starts, length=st.integers(0, 6 * 1440))
def test_business_minutes_between_agree_with_counting_minute_by_minute(calendar, start, length):
    end = start + timedelta(minutes=length)
    assert business_minutes_between(calendar, start, end) == between_reference(calendar, start, end)
    assert business_minutes_between(calendar, end, start) == -between_reference(
        calendar, start, end
    )


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), start=starts, minutes=st.integers(1, 5000))
def test_the_business_time_to_an_added_due_time_is_what_was_added(calendar, start, minutes):
    due = business_time_add_minutes(calendar, start, minutes)
    assert business_minutes_between(calendar, start, due) == minutes


NINE_TO_SIX = {day: [(9 * 60, 18 * 60)] for day in range(5)}


def at(time_zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(time_zone))


def test_a_message_on_friday_at_17_55_is_due_an_hour_later_on_monday_at_09_55():
    calendar = calendar_of("Europe/Warsaw", NINE_TO_SIX)
    friday = at("Europe/Warsaw", 2026, 12, 4, 17, 55)
    due = business_time_add_minutes(calendar, friday, 60)
    assert due == at("Europe/Warsaw", 2026, 12, 7, 9, 55)


def test_moscow_has_no_clock_change_so_its_days_are_all_nine_hours():
    calendar = calendar_of("Europe/Moscow", NINE_TO_SIX)
    # The last weekend of March and of October, when Warsaw's clocks change.
    for monday in (date(2026, 3, 23), date(2026, 3, 30), date(2026, 10, 26)):
        start = at("Europe/Moscow", monday.year, monday.month, monday.day, 0, 0)
        assert business_minutes_between(calendar, start, start + timedelta(days=7)) == 5 * 540


def test_warsaw_round_the_clock_day_is_23_hours_in_spring_and_25_in_autumn():
    calendar = calendar_of("Europe/Warsaw", {6: [(0, 1440)]})
    spring = at("Europe/Warsaw", 2026, 3, 29, 0, 0)
    autumn = at("Europe/Warsaw", 2026, 10, 25, 0, 0)
    assert business_minutes_between(calendar, spring, spring + timedelta(days=1)) == 23 * 60
    assert business_minutes_between(calendar, autumn, autumn + timedelta(days=2)) == 25 * 60


def test_new_york_nine_to_six_keeps_its_wall_clock_across_the_clock_change():
    calendar = calendar_of("America/New_York", {day: [(540, 1080)] for day in range(7)})
    saturday = at("America/New_York", 2026, 3, 7, 17, 0)
    due = business_time_add_minutes(calendar, saturday, 120)
    # Sunday 8 March: the clocks go forward at 02:00, business opens at 09:00 EDT.
    assert due == at("America/New_York", 2026, 3, 8, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)


def test_a_night_shift_across_midnight_counts_on_both_dates():
    calendar = calendar_of("UTC", {day: [(22 * 60, 1440), (0, 2 * 60)] for day in range(7)})
    start = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
    assert business_time_add_minutes(calendar, start, 120) == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)


def test_holidays_and_yearly_holidays_are_closed():
    calendar = calendar_of(
        "Europe/Warsaw",
        NINE_TO_SIX,
        holidays=frozenset({date(2026, 12, 24)}),
        yearly_holidays=frozenset({(12, 25)}),
    )
    wednesday = at("Europe/Warsaw", 2026, 12, 23, 17, 0)
    # Thursday 24th and Friday 25th closed, then the weekend.
    assert business_time_add_minutes(calendar, wednesday, 120) == at(
        "Europe/Warsaw", 2026, 12, 28, 10, 0
    )
    next_year = at("Europe/Warsaw", 2027, 12, 24, 17, 0)  # a Friday; the 25th is Saturday
    assert business_time_add_minutes(calendar, next_year, 120) == at(
        "Europe/Warsaw", 2027, 12, 27, 10, 0
    )


def test_a_long_closure_is_crossed():
    closed = frozenset(date(2026, 7, 1) + timedelta(days=offset) for offset in range(62))
    calendar = calendar_of("Europe/Warsaw", NINE_TO_SIX, holidays=closed)
    start = at("Europe/Warsaw", 2026, 6, 30, 17, 30)
    assert business_time_add_minutes(calendar, start, 60) == at("Europe/Warsaw", 2026, 9, 1, 9, 30)


@pytest.mark.parametrize(
    "calendar",
    [
        calendar_of("Europe/Warsaw", {}),
        calendar_of(
            "UTC",
            NINE_TO_SIX,
            yearly_holidays=frozenset(
                (day.month, day.day)
                for day in (date(2024, 1, 1) + timedelta(days=n) for n in range(366))
            ),
        ),
    ],
    ids=["no intervals", "every day a holiday"],
)
def test_a_calendar_with_no_open_time_never_reaches_a_target(calendar):
    start = datetime(2026, 6, 1, tzinfo=UTC)
    assert business_time_add(calendar, start, 60) is None
    assert business_seconds_between(calendar, start, start + timedelta(days=30)) == 0


def test_round_the_clock_is_plain_time():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert business_time_add(None, start, 3600) == start + timedelta(hours=1)
    assert business_seconds_between(None, start, start + timedelta(hours=5)) == 5 * 3600


def test_a_year_of_targets_is_fast():
    calendar = calendar_of("Europe/Warsaw", {day: [(540, 780), (840, 1080)] for day in range(5)})
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    import time

    began = time.perf_counter()
    for hour in range(2000):
        business_time_add_minutes(calendar, start + timedelta(hours=hour), 240)
    assert time.perf_counter() - began < 2.0
