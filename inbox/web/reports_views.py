"""The supervisor CSAT page: read the filters, call the report selectors, render.

Every figure comes from inbox.reports, the same selectors as the JSON/CSV report API,
so the page, the API and the CSV download always agree.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from inbox import reports, survey_reach
from inbox.models import Team, User
from inbox.web import selectors

PERIODS = (
    (7, gettext_lazy("Last 7 days")),
    (30, gettext_lazy("Last 30 days")),
    (90, gettext_lazy("Last 90 days")),
)
DEFAULT_PERIOD_DAYS = 30
CUSTOM_PERIOD = "custom"


@dataclass(frozen=True)
class CsatPageFilters:
    """The filters as the form shows them, and as the report selectors take them."""

    period: str
    from_date: date | None
    to_date: date | None
    team_id: int | None
    channel_id: int | None
    report: reports.ReportFilters
    is_period_understood: bool

    @property
    def is_open_ended(self) -> bool:
        """The period runs until now, so a rating arriving live belongs to it."""
        return self.period != CUSTOM_PERIOD

    def api_query(self) -> str:
        """The same filters for the report API (and its CSV download)."""
        if self.period == CUSTOM_PERIOD and self.from_date and self.to_date:
            # The API reads a bare `to` date as the whole day, as the page does.
            period = {"from": self.from_date.isoformat(), "to": self.to_date.isoformat()}
        else:
            period = {"from": self.report.start.isoformat(), "to": self.report.end.isoformat()}
        values = {**period, "team": self.team_id, "channel": self.channel_id}
        return urlencode({key: value for key, value in values.items() if value is not None})


def _integer(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def csat_page_filters_from(
    params: QueryDict, *, teams: Sequence[Team], channels: Sequence[Any]
) -> CsatPageFilters:
    """Read the GET form; anything unknown falls back to the last 30 days, every team and
    channel, and says so rather than failing."""
    team_id = _integer(params.get("team"))
    if team_id not in {team.pk for team in teams}:
        team_id = None
    channel_id = _integer(params.get("channel"))
    if channel_id not in {channel.pk for channel in channels}:
        channel_id = None

    from_date, to_date = _date(params.get("from")), _date(params.get("to"))
    period = params.get("period") or (CUSTOM_PERIOD if from_date or to_date else "")
    is_period_understood = True
    now = timezone.now().replace(microsecond=0)
    if period == CUSTOM_PERIOD and from_date and to_date and from_date <= to_date:
        start, end = _day_start(from_date), _day_start(to_date + timedelta(days=1))
    else:
        days = _integer(period)
        if days not in dict(PERIODS):
            is_period_understood = not period
            days = DEFAULT_PERIOD_DAYS
        period, start, end = str(days), now - timedelta(days=days), now
        from_date, to_date = start.date(), end.date()
    return CsatPageFilters(
        period=period,
        from_date=from_date,
        to_date=to_date,
        team_id=team_id,
        channel_id=channel_id,
        report=reports.ReportFilters(start=start, end=end, channel=channel_id, team=team_id),
        is_period_understood=is_period_understood,
    )


def report_page_filters(request: HttpRequest) -> tuple[CsatPageFilters, dict[str, Any]]:
    """A report page's filters, and what its filter form shows; supervisors and admins only."""
    user = cast(User, request.user)
    if not user.sees_all_conversations:
        raise PermissionDenied("Only supervisors and admins see reports.")
    teams = selectors.inbox_teams_for(user=user)
    channels = selectors.inbox_channels_for(user=user)
    filters = csat_page_filters_from(request.GET, teams=teams, channels=channels)
    form = {
        "filters": filters,
        "periods": [(str(days), label) for days, label in PERIODS],
        "teams": teams,
        "channels": channels,
        "query": filters.api_query(),
        # Every conversation of the period (and team, channel), one row each.
        "conversations_export_url": f"{reverse('conversation-export')}?{filters.api_query()}",
    }
    return filters, form


@login_required
@require_safe
def csat_report_page(request: HttpRequest) -> HttpResponse:
    filters, form = report_page_filters(request)
    rows = reports.csat_operator_ranking(filters=filters.report)
    operator_names = {row["group"]["id"]: row["group"]["name"] for row in rows}
    context = {
        **form,
        "rows": rows,
        "min_responses": reports.MIN_RESPONSES_TO_JUDGE,
        "trend": reports.csat_weekly_trend(filters=filters.report),
        "comments": reports.latest_comments(filters=filters.report),
        "low_ratings": reports.needs_attention(filters=filters.report),
        "reach": survey_reach.surveys_not_sent(
            filters=filters.report,
            kind="csat",
            surveys_sent=sum(row["surveys_sent"] for row in rows),
        ),
        "csv_url": f"{reverse('report-csat')}?format=csv&{filters.api_query()}",
        "page_data": {
            "operators": {str(key): name for key, name in operator_names.items() if key},
            "team_id": filters.team_id,
            "channel_id": filters.channel_id,
            "is_live": filters.is_open_ended,
        },
    }
    return render(request, "inbox/csat_report.html", context)
