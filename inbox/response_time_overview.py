"""What the supervisor's response-time page shows, from inbox.response_reports (the same
figures as `GET /api/v1/reports/conversations/` and its CSV):

- the period's totals, and per operator the medians and p90s with the change of each
  median against the period just before (of the same length);
- conversations opened per day, and the busiest hours of the week as a heat map, both in
  the reader's time zone;
- SLA attainment per operator, team and channel.
Seven queries whatever the data.
"""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo
from typing import Any

from django.utils import timezone

from inbox import response_reports
from inbox.reports import ReportFilters

HEAT_LEVELS = 4
TREND_MEASURES = ("first_response", "resolution")


@dataclass(frozen=True)
class Trend:
    """A median against the previous period's: `change_percent` < 0 is faster."""

    previous_seconds: float
    change_percent: float

    @property
    def is_faster(self) -> bool:
        return self.change_percent < 0


@dataclass(frozen=True)
class DayVolume:
    day: date
    conversations: int
    height_percent: float


@dataclass(frozen=True)
class HeatCell:
    hour: int
    conversations: int
    level: int


def response_time_overview(*, filters: ReportFilters, time_zone: tzinfo) -> dict[str, Any]:
    # Times per operator only: teams and channels show their SLA figures here.
    with_totals = response_reports.conversation_report_with_totals(
        filters=filters, timed=("operator",)
    )
    report, overall = with_totals["groups"], with_totals["overall"]
    previous = response_reports.timings(
        filters=previous_period(filters),
        groupings=("operator",),
        measures=tuple(m for m in response_reports.MEASURES if m.name in TREND_MEASURES),
    )["operator"]
    hourly = list(response_reports.hourly_volume(filters=filters, time_zone=time_zone))
    decided = sum(row["sla"]["decided"] for row in report["by_operator"])
    met = sum(row["sla"]["met"] for row in report["by_operator"])
    return {
        "overall": overall,
        "sla_overall": response_reports.sla_figures(decided, met),
        "operators": [
            {**row, "trend": operator_trend(row, previous.get(row["group"]["id"]))}
            for row in report["by_operator"]
        ],
        "teams": report["by_team"],
        "channels": report["by_channel"],
        "days": daily_volume(hourly, filters=filters, time_zone=time_zone),
        "heat_map": weekly_heat_map(hourly),
    }


def previous_period(filters: ReportFilters) -> ReportFilters:
    return replace(filters, start=filters.start - (filters.end - filters.start), end=filters.start)


def operator_trend(row: dict, previous: dict | None) -> dict[str, Trend | None]:
    trends: dict[str, Trend | None] = {}
    for measure in TREND_MEASURES:
        now = row[measure]["median_seconds"]
        before = previous[measure]["median_seconds"] if previous else None
        trends[measure] = (
            Trend(previous_seconds=before, change_percent=round(100 * (now - before) / before))
            if now is not None and before
            else None
        )
    return trends


def daily_volume(hourly: list, *, filters: ReportFilters, time_zone: tzinfo) -> list[DayVolume]:
    """Every local day of the period, those without conversations too."""
    per_day: Counter[date] = Counter()
    for hour, count in hourly:
        per_day[hour.date()] += count
    first = timezone.localtime(filters.start, time_zone).date()
    last = timezone.localtime(filters.end - timedelta(microseconds=1), time_zone).date()
    busiest = max(per_day.values(), default=0)
    days = []
    day = first
    while day <= last:
        count = per_day.get(day, 0)
        days.append(DayVolume(day, count, round(100 * count / busiest, 1) if busiest else 0))
        day += timedelta(days=1)
    return days


def weekly_heat_map(hourly: list) -> list[list[HeatCell]]:
    """Seven rows, Monday first, of 24 hours: conversations opened at that local hour of
    that weekday over the period; `level` 0 (none) to HEAT_LEVELS (the busiest)."""
    counts: Counter[tuple[int, int]] = Counter()
    for hour, count in hourly:
        counts[(hour.weekday(), hour.hour)] += count
    busiest = max(counts.values(), default=0)

    def level(count: int) -> int:
        return 0 if not count else max(1, round(HEAT_LEVELS * count / busiest))

    return [
        [
            HeatCell(hour, counts[(weekday, hour)], level(counts[(weekday, hour)]))
            for hour in range(24)
        ]
        for weekday in range(7)
    ]
