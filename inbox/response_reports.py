"""The response-time report: volume, first response and resolution times (median, p90, wall
and business time) and SLA attainment per operator, team and channel.

- Times are of the conversations opened in the period: first response and resolution
  from the opening (wall time), and in business time where their SLA policy has a calendar
  (kept on the conversation as each is decided, inbox.sla.clock).
- SLA attainment is of the conversations whose targets were decided in the period: those
  with an SLA resolved in it (resolving decides every target still running). An open
  conversation's breach counts once it is resolved; until then the inbox's "Breached" view
  shows it. `sla_met_percent` is the share of them with no target breached.

Medians and p90s are computed by PostgreSQL (one sort per measure and group); the embedded
mode's SQLite has no percentile functions, so there the values are read and ranked here,
with the same definitions: the median halfway between the middle two, the p90 the
nearest rank.
"""

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncHour

from inbox.models import Conversation
from inbox.reports import ReportFilters, group_labels

GROUPINGS = ("operator", "team", "channel")
GROUP_COLUMNS = {"operator": "assignee_id", "team": "team_id", "channel": "channel_id"}
MEDIAN, P90 = 0.5, 0.9


@dataclass(frozen=True)
class Measure:
    """A duration of a conversation: wall time between two of its columns, or a column
    of business seconds."""

    name: str
    start: str = ""
    end: str = ""
    business_seconds: str = ""

    def expression(self) -> Any:
        if self.business_seconds:
            return F(self.business_seconds)
        return Seconds(F(self.end) - F(self.start))

    def value_of(self, row: dict) -> float | None:
        if self.business_seconds:
            return row[self.business_seconds]
        start, end = row[self.start], row[self.end]
        return (end - start).total_seconds() if start and end else None


MEASURES = (
    Measure("first_response", start="created_at", end="first_response_at"),
    Measure("resolution", start="created_at", end="resolved_at"),
    Measure("first_response_business", business_seconds="first_response_business_seconds"),
    Measure("resolution_business", business_seconds="resolution_business_seconds"),
)


class Seconds(Func):
    """A PostgreSQL interval in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class Percentile(Aggregate):
    """PostgreSQL's ordered-set aggregate: continuous (interpolated) or discrete (a value
    of the set, the nearest rank)."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, continuous: bool, **extra: Any):
        function = "percentile_cont" if continuous else "percentile_disc"
        super().__init__(expression, function=function, fraction=fraction, **extra)


def conversations_opened_in(filters: ReportFilters) -> QuerySet[Conversation]:
    return _in_scope(
        Conversation.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end),
        filters,
    )


def _in_scope(conversations: QuerySet[Conversation], filters: ReportFilters) -> QuerySet:
    if filters.channel is not None:
        conversations = conversations.filter(channel_id=filters.channel)
    if filters.team is not None:
        conversations = conversations.filter(team_id=filters.team)
    if filters.operator is not None:
        conversations = conversations.filter(assignee_id=filters.operator)
    return conversations


def timings_by(group_by: str | None, *, filters: ReportFilters) -> dict[Any, dict[str, Any]]:
    """{group id: {"volume", "first_response": {median, p90}, ...}}; one query. Without
    `group_by`, the whole period's under the key None."""
    column = GROUP_COLUMNS[group_by] if group_by else None
    conversations = conversations_opened_in(filters)
    if connection.vendor == "postgresql":
        return _timings_in_database(conversations, column)
    return _timings_here(conversations, column)


def _timings_in_database(conversations: QuerySet, column: str | None) -> dict[Any, dict[str, Any]]:
    aggregates: dict[str, Any] = {"volume": Count("*")}
    for measure in MEASURES:
        expression = measure.expression()
        aggregates[f"{measure.name}_median"] = Percentile(
            expression, fraction=MEDIAN, continuous=True
        )
        aggregates[f"{measure.name}_p90"] = Percentile(expression, fraction=P90, continuous=False)
    if column is None:
        rows = [{None: None, **conversations.aggregate(**aggregates)}]
        if not rows[0]["volume"]:
            return {}
    else:
        rows = list(conversations.values(column).annotate(**aggregates).order_by())
    timings = {}
    for row in rows:
        timings[row[column]] = {
            "volume": row["volume"],
            **{
                measure.name: _durations(row[f"{measure.name}_median"], row[f"{measure.name}_p90"])
                for measure in MEASURES
            },
        }
    return timings


def _timings_here(conversations: QuerySet, column: str | None) -> dict[Any, dict[str, Any]]:
    fields = {f for m in MEASURES for f in (m.start, m.end, m.business_seconds) if f}
    if column is not None:
        fields.add(column)
    values: dict[Any, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    volume: dict[Any, int] = defaultdict(int)
    for row in conversations.values(*fields).order_by().iterator():
        key = row[column] if column is not None else None
        volume[key] += 1
        for measure in MEASURES:
            value = measure.value_of(row)
            if value is not None:
                values[key][measure.name].append(value)
    return {
        key: {
            "volume": count,
            **{measure.name: percentiles(values[key][measure.name]) for measure in MEASURES},
        }
        for key, count in volume.items()
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    """Median and p90 (nearest rank) of durations in seconds."""
    if not values:
        return _durations(None, None)
    ordered = sorted(values)
    return _durations(
        statistics.median(ordered), ordered[max(0, math.ceil(P90 * len(ordered)) - 1)]
    )


def _durations(median: float | None, p90: float | None) -> dict[str, float | None]:
    return {
        "median_seconds": round(median, 1) if median is not None else None,
        "p90_seconds": round(p90, 1) if p90 is not None else None,
    }


def sla_attainment(*, filters: ReportFilters) -> dict[str, dict[Any, dict[str, Any]]]:
    """{grouping: {group id: {"decided", "met", "sla_met_percent"}}} for every grouping;
    one query (the counts add up across groupings)."""
    with_sla = (
        Q(sla_policy__isnull=False)
        | Q(first_response_breached=True)
        | Q(next_response_breached=True)
        | Q(resolution_breached=True)
    )
    breached = (
        Q(first_response_breached=True)
        | Q(next_response_breached=True)
        | Q(resolution_breached=True)
    )
    decided = _in_scope(
        Conversation.objects.filter(
            with_sla, resolved_at__gte=filters.start, resolved_at__lt=filters.end
        ),
        filters,
    )
    rows = (
        decided.values(*GROUP_COLUMNS.values())
        .annotate(decided=Count("*"), met=Count("pk", filter=~breached))
        .order_by()
    )
    counts: dict[str, dict[Any, list[int]]] = {
        grouping: defaultdict(lambda: [0, 0]) for grouping in GROUPINGS
    }
    for row in rows:
        for grouping, column in GROUP_COLUMNS.items():
            tally = counts[grouping][row[column]]
            tally[0] += row["decided"]
            tally[1] += row["met"]
    return {
        grouping: {key: sla_figures(*tally) for key, tally in groups.items()}
        for grouping, groups in counts.items()
    }


def sla_figures(decided: int, met: int) -> dict[str, Any]:
    return {
        "decided": decided,
        "met": met,
        "breached": decided - met,
        "sla_met_percent": round(100 * met / decided, 2) if decided else None,
    }


def conversation_report(*, filters: ReportFilters) -> dict[str, list[dict[str, Any]]]:
    """`by_operator`, `by_team` and `by_channel` rows; seven queries whatever the data."""
    attainment = sla_attainment(filters=filters)
    return {
        f"by_{group_by}": report_rows(
            group_by, timings_by(group_by, filters=filters), attainment[group_by]
        )
        for group_by in GROUPINGS
    }


def report_rows(
    group_by: str, timings: dict[Any, dict[str, Any]], attainment: dict[Any, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per group with conversations opened or SLAs decided in the period, the
    groups with the most conversations first (the unassigned, or unteamed, last)."""
    keys = set(timings) | set(attainment)
    labels = group_labels(group_by, list(keys))
    empty = {"volume": 0, **{measure.name: _durations(None, None) for measure in MEASURES}}
    rows = []
    for key in keys:
        timing = timings.get(key, empty)
        sla = attainment.get(key, sla_figures(0, 0))
        rows.append(
            {
                "group": {
                    "id": key,
                    "name": labels.get(key, "") if key is not None else "unassigned",
                },
                "conversations": timing["volume"],
                "volume": timing["volume"],
                **{measure.name: timing[measure.name] for measure in MEASURES},
                "sla": {name: sla[name] for name in ("decided", "met", "breached")},
                "sla_met_percent": sla["sla_met_percent"],
            }
        )
    rows.sort(key=lambda row: (row["group"]["id"] is None, -row["volume"], str(row["group"]["id"])))
    return rows


def hourly_volume(*, filters: ReportFilters, time_zone: Any) -> Iterable[tuple[datetime, int]]:
    """(local hour, conversations opened in it) in `time_zone`; one query."""
    return (
        conversations_opened_in(filters)
        .annotate(hour=TruncHour("created_at", tzinfo=time_zone))
        .values_list("hour")
        .annotate(count=Count("*"))
        .order_by("hour")
    )
