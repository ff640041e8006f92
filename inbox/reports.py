"""Supervisor reports: CSAT per operator/team/channel/day (response times: inbox.response_reports).

CSAT % is the share of 4 and 5 among responses; the ranking uses the Wilson lower
bound of that share (95%), so a couple of answers do not outrank two hundred.
"""

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from django.apps import apps
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from inbox.models import CsatSurvey, SurveyDayCount, SurveyKind, Team, User
from inbox.models.surveys import RATING_COLUMNS

GROUPINGS = ("operator", "team", "channel", "day")
Scoped = TypeVar("Scoped", bound=Model)
MIN_RESPONSES_TO_JUDGE = 5
WILSON_Z = 1.96


@dataclass(frozen=True)
class ReportFilters:
    start: datetime
    end: datetime
    channel: int | None = None
    team: int | None = None
    operator: int | None = None


def wilson_lower_bound(satisfied: int, total: int, z: float = WILSON_Z) -> float | None:
    if total == 0:
        return None
    share = satisfied / total
    denominator = 1 + z * z / total
    centre = share + z * z / (2 * total)
    margin = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return (centre - margin) / denominator


def group_field(group_by: str) -> str:
    return {"operator": "operator_id", "team": "team_id", "channel": "channel_id", "day": "day"}[
        group_by
    ]


def csat_report(*, group_by: str, filters: ReportFilters) -> list[dict[str, Any]]:
    """One row per group; three queries at most whatever the number of groups."""
    # Counts per (group, rating) only; every figure of the report derives from them.
    counts: dict = defaultdict(lambda: dict.fromkeys((None, 1, 2, 3, 4, 5), 0))
    for key, rating, count in survey_answer_counts(
        filters, kind=SurveyKind.CSAT, group_by=group_by
    ):
        counts[key][rating] += count
    labels = group_labels(group_by, list(counts))
    report = []
    for key in sorted(counts, key=lambda value: (value is None, value)):
        by_rating = counts[key]
        responses = sum(by_rating[value] for value in range(1, 6))
        satisfied = by_rating[4] + by_rating[5]
        surveys_sent = responses + by_rating[None]
        total_rating = sum(value * by_rating[value] for value in range(1, 6))
        report.append(
            {
                "group": {
                    "id": str(key) if group_by == "day" else key,
                    "name": labels.get(key, ""),
                },
                "surveys_sent": surveys_sent,
                "responses": responses,
                "response_rate": _ratio(responses, surveys_sent),
                "csat_percent": _percent(satisfied, responses),
                "average_rating": round(total_rating / responses, 2) if responses else None,
                "distribution": {str(value): by_rating[value] for value in range(1, 6)},
                "wilson_lower_bound": _round(wilson_lower_bound(satisfied, responses)),
                "enough_responses": responses >= MIN_RESPONSES_TO_JUDGE,
            }
        )
    if group_by != "day":
        report.sort(
            key=lambda item: (
                item["wilson_lower_bound"] is None,
                -(item["wilson_lower_bound"] or 0),
            )
        )
    return report


def group_labels(group_by: str, keys: list) -> dict:
    ids = [key for key in keys if key is not None]
    if group_by == "operator":
        return {
            user.pk: user.display_name
            for user in User.objects.filter(pk__in=ids).only("username", "first_name", "last_name")
        }
    if group_by == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "channel":
        channel_model = apps.get_model("channels_app", "Channel")
        return dict(channel_model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {key: str(key) for key in keys}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def latest_comments(
    *, filters: ReportFilters, limit: int = 20, kind: str = SurveyKind.CSAT
) -> list[CsatSurvey]:
    return list(
        in_scope(
            CsatSurvey.objects.filter(
                kind=kind, answered_at__gte=filters.start, answered_at__lt=filters.end
            ),
            filters,
        )
        .exclude(comment="")
        .select_related("operator")
        .order_by("-answered_at")[:limit]
    )


def needs_attention(*, filters: ReportFilters, limit: int = 50) -> list[CsatSurvey]:
    """Poor ratings (1 or 2), newest first."""
    return list(
        in_scope(
            CsatSurvey.objects.filter(
                kind=SurveyKind.CSAT,
                answered_at__gte=filters.start,
                answered_at__lt=filters.end,
                rating__lte=2,
            ),
            filters,
        )
        .select_related("operator")
        .order_by("-answered_at")[:limit]
    )


def surveys_sent_in(filters: ReportFilters, *, kind: str) -> QuerySet[CsatSurvey]:
    """Surveys of this kind sent in the period, within the filters' scope."""
    return in_scope(
        CsatSurvey.objects.filter(kind=kind, sent_at__gte=filters.start, sent_at__lt=filters.end),
        filters,
    )


def survey_answer_counts(
    filters: ReportFilters, *, kind: str, group_by: str
) -> Iterator[tuple[Any, int | None, int]]:
    """(group, answer, surveys) of the surveys of this kind sent in the period, a group
    and answer possibly more than once; None for no answer yet, no operator or no team.

    One statement: whole days (UTC) come from the day counts, the period's partial first
    and last days from the surveys themselves. Days of another time zone are not whole
    days of the counts, so a report by day in one reads the surveys alone.
    """
    first_day, last_day = _whole_days(filters)
    if group_by == "day" and not _is_utc(timezone.get_current_timezone()):
        first_day = last_day = filters.start
    parts = []
    if first_day < last_day:
        parts.append(
            _day_count_sums(filters, kind=kind, group_by=group_by, days=(first_day, last_day))
        )
    edges = Q(sent_at__gte=filters.start, sent_at__lt=min(first_day, filters.end))
    edges |= Q(sent_at__gte=max(last_day, filters.start), sent_at__lt=filters.end)
    if first_day >= last_day or filters.start < first_day or last_day < filters.end:
        parts.insert(0, _survey_sums(filters, edges, kind=kind, group_by=group_by))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    field = group_field(group_by)
    for row in rows:
        key = row[field]
        if group_by in ("operator", "team") and key == 0:
            key = None
        for rating, column in RATING_COLUMNS.items():
            if row[column]:
                yield key, rating, row[column]


def _whole_days(filters: ReportFilters) -> tuple[datetime, datetime]:
    """The start of the period's first whole day (UTC) and the end of its last."""
    start, end = filters.start.astimezone(UTC), filters.end.astimezone(UTC)
    first_day = datetime.combine(start.date(), time.min, UTC)
    if first_day < start:
        # On the calendar's last day there is no next one: no whole day in the period.
        first_day = start if start.date() == date.max else first_day + timedelta(days=1)
    return first_day, datetime.combine(end.date(), time.min, UTC)


def _is_utc(zone) -> bool:
    return zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")


def _survey_sums(filters: ReportFilters, period: Q, *, kind: str, group_by: str) -> QuerySet:
    surveys = in_scope(CsatSurvey.objects.filter(period, kind=kind), filters)
    if group_by == "day":
        surveys = surveys.annotate(day=TruncDate("sent_at"))
    return (
        surveys.values(group_field(group_by))
        .annotate(
            **{
                column: Count(
                    "pk", filter=Q(rating__isnull=True) if rating is None else Q(rating=rating)
                )
                for rating, column in RATING_COLUMNS.items()
            }
        )
        .order_by()
    )


def _day_count_sums(
    filters: ReportFilters, *, kind: str, group_by: str, days: tuple[datetime, datetime]
) -> QuerySet:
    counted = SurveyDayCount.objects.filter(
        kind=kind, day__gte=days[0].date(), day__lt=days[1].date()
    )
    return (
        in_scope(counted, filters)
        .values(group_field(group_by))
        .annotate(**{column: Sum(column) for column in RATING_COLUMNS.values()})
        .order_by()
    )


def in_scope(
    rows: QuerySet[Scoped], filters: ReportFilters, *, operator_field: str = "operator_id"
) -> QuerySet[Scoped]:
    """Narrow surveys (or conversations, whose operator is `assignee_id`) to the channel,
    team and operator of the filters, when set."""
    if filters.channel is not None:
        rows = rows.filter(channel_id=filters.channel)
    if filters.team is not None:
        rows = rows.filter(team_id=filters.team)
    if filters.operator is not None:
        rows = rows.filter(**{operator_field: filters.operator})
    return rows


def csat_weekly_trend(*, filters: ReportFilters) -> list[dict[str, Any]]:
    """CSAT per week (weeks start on Monday) of surveys sent in the period; one query.

    Only weeks with at least one survey sent appear, oldest first.
    """
    surveys = surveys_sent_in(filters, kind=SurveyKind.CSAT)
    rows = (
        surveys.annotate(week=TruncWeek("sent_at"))
        .values("week")
        .annotate(
            surveys_sent=Count("*"),
            responses=Count("rating"),
            satisfied=Count("pk", filter=Q(rating__gte=4)),
        )
        .order_by("week")
    )
    return [
        {
            "week": row["week"].date(),
            "surveys_sent": row["surveys_sent"],
            "responses": row["responses"],
            "csat_percent": _percent(row["satisfied"], row["responses"]),
        }
        for row in rows
    ]


def csat_operator_ranking(*, filters: ReportFilters) -> list[dict[str, Any]]:
    """The per-operator CSAT report for a ranking: operators with enough responses to judge
    first, each part still ordered by the Wilson lower bound."""
    rows = csat_report(group_by="operator", filters=filters)
    return sorted(rows, key=lambda row: not row["enough_responses"])
