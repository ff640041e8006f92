"""An operator's pages show times in the time zone they chose (operators/me/); without
one, the server renders UTC and the page's script shows the browser's own zone (a page
the server has to draw in a zone, the response-time report, is asked for again with it)."""

import zoneinfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from inbox.web.language import is_operator_request


class OperatorTimeZoneMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = self._chosen_zone(request)
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _chosen_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
        if not is_operator_request(request) or not request.user.is_authenticated:
            return None
        return time_zone_named(getattr(request.user, "time_zone", ""))


def time_zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that IANA name; None for none or an unknown one."""
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None


def reader_time_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The operator's chosen zone (active for the request), else the browser's as a page's
    script sends it in `tz`, else the server's."""
    current: zoneinfo.ZoneInfo = timezone.get_current_timezone()  # type: ignore[assignment]
    name = request.GET.get("tz", "")
    if getattr(request.user, "time_zone", "") or len(name) > 64:
        return current
    return time_zone_named(name) or current
