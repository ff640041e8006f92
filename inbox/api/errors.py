"""One JSON error shape everywhere: `{"error": <code>, "detail": <text>, "fields"?: {...}}`."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


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
        first = next(iter(fields.values()), ["invalid input"])
        message = first[0] if isinstance(first, list) and first else str(first)
        response.data = {"error": "invalid", "detail": str(message), "fields": fields}
    else:
        code = getattr(exc, "default_code", "error")
        detail = getattr(exc, "detail", str(exc))
        response.data = {"error": str(code), "detail": str(detail)}
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None):
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse({"error": "not_found", "detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def json_server_error(request: HttpRequest):
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse(
            {"error": "server_error", "detail": "Something went wrong on our side."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error

    return server_error(request)
