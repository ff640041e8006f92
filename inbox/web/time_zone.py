"""An operator's pages show times in the time zone they chose (operators/me/); without
one, the server renders UTC and the page's script shows the browser's own zone."""

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
        name = getattr(request.user, "time_zone", "")
        try:
            return zoneinfo.ZoneInfo(name) if name else None
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return None
