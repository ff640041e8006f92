"""The supervisor response-time page, beside the CSAT one: the same filters, every figure
from inbox.response_time_overview (what the report API and its CSV give)."""

import zoneinfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.views.decorators.http import require_safe

from inbox.response_time_overview import response_time_overview
from inbox.web.reports_views import report_page_filters


@login_required
@require_safe
def response_time_report_page(request: HttpRequest) -> HttpResponse:
    filters, form = report_page_filters(request)
    time_zone = _reader_time_zone(request)
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


def _reader_time_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The operator's chosen zone (active for the request), else the browser's as the
    page's script sends it in `tz`, else the server's."""
    current = timezone.get_current_timezone()
    name = request.GET.get("tz", "")
    if getattr(request.user, "time_zone", "") or not name or len(name) > 64:
        return current  # type: ignore[return-value]
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return current  # type: ignore[return-value]
