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

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour

from inbox.models import Conversation
from inbox.reports import ReportFilters, group_labels, in_scope
from inbox.selectors.conversations import conversation_sla_condition

GROUPINGS = ("operator", "team", "channel")
GROUP_COLUMNS = {"operator": "assignee_id", "team": "team_id", "channel": "channel_id"}
MEDIAN, P90 = 0.5, 0.9
SORT_MEMORY = "64MB"


@dataclass(frozen=True)
class Measure:
    """A duration of a conversation: wall time between two of its columns, or a column
    of business seconds."""

    name: str
    start: str = ""
    end: str = ""
    business_seconds: str = ""

    @property
    def sql(self) -> str:
        if self.business_seconds:
            return self.business_seconds
        return f"EXTRACT(EPOCH FROM {self.end} - {self.start})"

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
MEASURED_COLUMNS = sorted({c for m in MEASURES for c in (m.start, m.end, m.business_seconds) if c})


def conversations_opened_in(filters: ReportFilters) -> QuerySet[Conversation]:
    return in_scope(
        Conversation.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end),
        filters,
        operator_field="assignee_id",
    )


def timings(
    *,
    filters: ReportFilters,
    groupings: tuple[str | None, ...] = (*GROUPINGS, None),
    measures: tuple[Measure, ...] = MEASURES,
) -> dict[str | None, dict[Any, dict[str, Any]]]:
    """{grouping: {group id: {"volume", "first_response": {median, p90}, ...}}} of the
    conversations opened in the period, for `measures`; the grouping None is the whole
    period's (its one group's id None). One query, one pass over the period's rows; each
    measure costs a sort of them per grouping, so ask only for what is shown."""
    rows = conversations_opened_in(filters).values(*GROUP_COLUMNS.values(), *MEASURED_COLUMNS)
    if connection.vendor == "postgresql":
        return _timings_in_database(rows, groupings, measures)
    return _timings_here(rows, groupings, measures)


def _timings_in_database(
    rows: QuerySet, groupings: tuple, measures: tuple[Measure, ...]
) -> dict[Any, dict[Any, dict]]:
    # GROUPING SETS, which the ORM does not write: the rows' own query is the ORM's.
    inner, parameters = rows.order_by().query.sql_with_params()
    grouped = [grouping for grouping in groupings if grouping]
    # Per grouped column: GROUPING() is 0 in the rows grouped by it, and the column.
    columns = "".join(f"GROUPING({GROUP_COLUMNS[g]}), {GROUP_COLUMNS[g]}, " for g in grouped)
    figures = ", ".join(
        f"percentile_cont({MEDIAN}) WITHIN GROUP (ORDER BY {m.sql}), "
        f"percentile_disc({P90}) WITHIN GROUP (ORDER BY {m.sql})"
        for m in measures
    )
    sets = ", ".join(f"({GROUP_COLUMNS[g]})" if g else "()" for g in groupings)
    sql = (
        f"SELECT {columns}COUNT(*), {figures} "
        f"FROM ({inner}) AS opened GROUP BY GROUPING SETS ({sets})"
    )
    result: dict[Any, dict[Any, dict]] = {grouping: {} for grouping in groupings}
    with transaction.atomic(), connection.cursor() as cursor:
        # Enough memory to sort a period's times without spilling to disk.
        cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
        cursor.execute(sql, parameters)
        for row in cursor.fetchall():
            keys = row[: 2 * len(grouped)]
            volume, *values = row[2 * len(grouped) :]
            grouping, key = next(
                ((g, keys[2 * i + 1]) for i, g in enumerate(grouped) if keys[2 * i] == 0),
                (None, None),
            )
            if not volume:
                continue  # the whole period's row of an empty period
            result[grouping][key] = {
                "volume": volume,
                **{
                    measure.name: _durations(values[2 * index], values[2 * index + 1])
                    for index, measure in enumerate(measures)
                },
            }
    return result


def _timings_here(
    rows: QuerySet, groupings: tuple, measures: tuple[Measure, ...]
) -> dict[Any, dict[Any, dict]]:
    values: dict = defaultdict(lambda: defaultdict(list))
    volume: dict[tuple, int] = defaultdict(int)
    for row in rows.order_by().iterator():
        keys = [(g, row[GROUP_COLUMNS[g]] if g else None) for g in groupings]
        for key in keys:
            volume[key] += 1
        for measure in measures:
            value = measure.value_of(row)
            if value is not None:
                for key in keys:
                    values[key][measure.name].append(value)
    result: dict[Any, dict[Any, dict]] = {grouping: {} for grouping in groupings}
    for (grouping, key), count in volume.items():
        result[grouping][key] = {
            "volume": count,
            **{m.name: percentiles(values[(grouping, key)][m.name]) for m in measures},
        }
    return result


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
    breached = conversation_sla_condition("breached")
    with_sla = Q(sla_policy__isnull=False) | breached
    decided = in_scope(
        Conversation.objects.filter(
            with_sla, resolved_at__gte=filters.start, resolved_at__lt=filters.end
        ),
        filters,
        operator_field="assignee_id",
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
    """`by_operator`, `by_team` and `by_channel` rows; five queries whatever the data."""
    return conversation_report_with_totals(filters=filters)["groups"]


def conversation_report_with_totals(
    *, filters: ReportFilters, timed: tuple[str, ...] = GROUPINGS
) -> dict[str, Any]:
    """The report's rows (`groups`: by_operator, by_team, by_channel) and the whole
    period's timings (`overall`, None when nothing was opened). Only the `timed`
    groupings' rows have times (the others volume 0 and no times: their SLA figures)."""
    attainment = sla_attainment(filters=filters)
    times: dict[str | None, dict[Any, dict[str, Any]]] = {g: {} for g in GROUPINGS}
    times.update(timings(filters=filters, groupings=(*timed, None)))
    return {
        "groups": {
            f"by_{group_by}": report_rows(group_by, times[group_by], attainment[group_by])
            for group_by in GROUPINGS
        },
        "overall": times[None].get(None),
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
