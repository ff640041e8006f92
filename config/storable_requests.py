"""One door for text PostgreSQL cannot store: a request that carries a NUL or a lone
surrogate anywhere Django or a view may read it (path, query string, cookies, headers,
form fields, JSON at any depth) is answered 400 before any view runs."""

import json

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, JsonResponse, QueryDict
from django.utils.translation import gettext as _

from customers.storable_text import (
    is_storable_text,
    is_storable_value,
    may_hold_unstorable_json,
)

# Platforms' bodies are read by their adapters, which clean the text they keep: a
# platform whose webhook was refused would only send it again, for days.
_BODY_READ_BY_ADAPTERS = "/webhooks/"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class StorableTextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not is_storable_request(request):
            return JsonResponse(
                {
                    "error": "invalid",
                    "detail": _(
                        "The request holds characters that cannot be stored "
                        "(a NUL character or a lone surrogate)."
                    ),
                },
                status=400,
            )
        return self.get_response(request)


def is_storable_request(request: HttpRequest) -> bool:
    if not is_storable_text(request.path_info):
        return False
    if not _are_storable_pairs(request.GET.lists()):
        return False
    if not _are_storable_pairs(request.COOKIES.items()):
        return False
    if not all(
        is_storable_text(value)
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ):
        return False
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path_info.startswith(
        _BODY_READ_BY_ADAPTERS
    ):
        return True
    return _is_storable_body(request)


def _is_storable_body(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    if content_type.endswith("json"):
        body = request.body
        if not may_hold_unstorable_json(body):
            return True
        try:
            value = json.loads(body)
        except ValueError:
            return True  # not JSON at all: the view's parser says so
        return is_storable_value(value)
    if content_type in _FORM_TYPES:
        if request.method == "POST":
            fields = request.POST
            names = [upload.name or "" for upload in _uploads(request)]
        elif content_type == _FORM_TYPES[0]:
            fields, names = QueryDict(request.body, encoding=request.encoding), []
        else:
            return True
        return _are_storable_pairs(fields.lists()) and all(map(is_storable_text, names))
    return True


def _uploads(request: HttpRequest) -> list[UploadedFile]:
    return [upload for _, uploads in request.FILES.lists() for upload in uploads]


def _are_storable_pairs(pairs) -> bool:
    for key, values in pairs:
        if not is_storable_text(key):
            return False
        if isinstance(values, str):
            values = [values]
        if not all(is_storable_text(value) for value in values):
            return False
    return True
