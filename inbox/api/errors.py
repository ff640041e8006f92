"""One JSON error shape everywhere: `{"error": <code>, "detail": <text>, "fields"?: {...}}`."""

import sys
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from customers.transactions import is_connection_lost


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own exceptions carry no error code: give them DRF's.
    if isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = next(iter(fields.values()), [gettext("invalid input")])
        message = first[0] if isinstance(first, list) and first else str(first)
        response.data = {"error": "invalid", "detail": str(message), "fields": fields}
    else:
        code = getattr(exc, "default_code", "error")
        detail = getattr(exc, "detail", str(exc))
        response.data = {"error": str(code), "detail": str(detail)}
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None):
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse({"error": "not_found", "detail": gettext("Not found.")}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def json_bad_request(request: HttpRequest, exception: Exception | None = None):
    """A request Django refused before any view (too many form fields, a forged host): JSON
    on the API and webhooks as everywhere else there."""
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse(
            {"error": "bad_request", "detail": gettext("The request could not be read.")},
            status=400,
        )
    from django.views.defaults import bad_request

    return bad_request(request, exception or Exception())


def json_server_error(request: HttpRequest):
    error = sys.exc_info()[1]
    if error is not None and is_database_unavailable(error):
        # Outside a view (in a middleware, say): no connection in time, or none at all.
        return DatabaseBusyMiddleware.busy_response()
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse(
            {"error": "server_error", "detail": gettext("Something went wrong on our side.")},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error

    return server_error(request)


def is_database_busy(error: BaseException) -> bool:
    """Every connection of this process's database pool stayed in use for the whole wait."""
    from psycopg_pool import PoolTimeout

    return isinstance(error, PoolTimeout) or isinstance(error.__cause__, PoolTimeout)


def is_database_unavailable(error: BaseException) -> bool:
    """The database is busy (no free connection), restarting or out of reach: the request
    may be sent again, and should be."""
    return is_database_busy(error) or is_connection_lost(error)


class DatabaseBusyMiddleware:
    """A request that waited its whole time for a database connection, or found the
    database restarting or out of reach, is answered 503 with Retry-After, not 500: what
    it asked was not done (or is done once when sent again: webhooks are idempotent), and
    platforms and clients send it again."""

    RETRY_AFTER_SECONDS = 1

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        return self.busy_response() if is_database_unavailable(exception) else None

    @classmethod
    def busy_response(cls) -> JsonResponse:
        response = JsonResponse(
            {"error": "unavailable", "detail": gettext("The service is busy; try again shortly.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(cls.RETRY_AFTER_SECONDS)
        return response
