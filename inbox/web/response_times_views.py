"""The supervisor response-time page, beside the CSAT one: the same filters, every figure
from inbox.response_time_overview (what the report API and its CSV give)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.views.decorators.http import require_safe

from inbox.response_time_overview import response_time_overview
from inbox.web.reports_views import report_page_filters
from inbox.web.time_zone import reader_time_zone


@login_required
@require_safe
def response_time_report_page(request: HttpRequest) -> HttpResponse:
    filters, form = report_page_filters(request)
    time_zone = reader_time_zone(request)
    overview = response_time_overview(filters=filters.report, time_zone=time_zone)
    return render(
        request,
        "inbox/response_time_report.html",
        {
            **form,
            **overview,
            "heat_rows": [
                (WEEKDAYS_ABBR[weekday], cells)
                for weekday, cells in enumerate(overview["heat_map"])
            ],
            "time_zone_name": str(time_zone),
            "is_time_zone_chosen": bool(getattr(request.user, "time_zone", "")),
            "csv_url": f"{reverse('report-conversations')}?format=csv&{form['query']}",
        },
    )
