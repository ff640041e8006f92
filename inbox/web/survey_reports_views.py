"""The supervisor NPS and CES page, beside the CSAT one: the same filters, every figure from
inbox.survey_reports (what the report API and its CSV give)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from inbox import reports, survey_reach, survey_reports
from inbox.models import SurveyKind
from inbox.web.reports_views import report_page_filters

LATEST_COMMENTS = 10


@login_required
@require_safe
def survey_report_page(request: HttpRequest) -> HttpResponse:
    filters, form = report_page_filters(request)
    return render(
        request,
        "inbox/survey_report.html",
        {
            **form,
            "nps": _kind_figures(filters.report, form["query"], kind=SurveyKind.NPS),
            "ces": _kind_figures(filters.report, form["query"], kind=SurveyKind.CES),
        },
    )


def _kind_figures(period: reports.ReportFilters, query: str, *, kind: str) -> dict[str, Any]:
    report = survey_reports.nps_report if kind == SurveyKind.NPS else survey_reports.ces_report
    by_operator = report(group_by="operator", filters=period)
    return {
        "by_operator": by_operator,
        "reach": survey_reach.surveys_not_sent(
            filters=period, kind=kind, surveys_sent=by_operator["overall"]["surveys_sent"]
        ),
        "by_channel": report(group_by="channel", filters=period),
        "comments": reports.latest_comments(filters=period, kind=kind, limit=LATEST_COMMENTS),
        "csv_url": f"{reverse(f'report-{kind}')}?format=csv&{query}",
    }
