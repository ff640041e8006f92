"""How large a request body each endpoint takes, enforced before anything reads the body
or looks at who sent it: by the ASGI edge as the bytes arrive
(channels_app.webhook_edge.RequestBodyLimit), and by a middleware from the declared
Content-Length (under WSGI)."""

import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation

from channels_app.webhook_edge import body_too_large_detail

_WIDGET_UPLOAD = re.compile(r"^/widget/[^/]+/uploads/")
# Operators' replies with files: the one endpoint that takes many large files at once.
_REPLY_WITH_FILES = re.compile(r"^/api/v1/conversations/\d+/messages/$")


def body_limit_for(path: str) -> int:
    from channels_app.widget.services import MAX_UPLOAD_REQUEST_BYTES
    from inbox.attachments import MAX_FILE_SIZE, MAX_FILES_PER_MESSAGE

    if path.startswith("/webhooks/email/"):
        return settings.EMAIL_INBOUND_MAX_BYTES
    if path.startswith("/webhooks/"):
        return settings.WEBHOOK_MAX_BODY_BYTES
    if _WIDGET_UPLOAD.match(path):
        return MAX_UPLOAD_REQUEST_BYTES
    if _REPLY_WITH_FILES.match(path):
        return MAX_FILE_SIZE * MAX_FILES_PER_MESSAGE + 1024 * 1024
    return settings.REQUEST_MAX_BODY_BYTES


def public_body_limit(scope: dict) -> int:
    """The limit for an ASGI request (see channels_app.webhook_edge.RequestBodyLimit)."""
    return body_limit_for(scope["path"])


def too_large_response(limit: int) -> JsonResponse:
    return JsonResponse({"error": "too_large", "detail": body_too_large_detail(limit)}, status=413)


class RequestBodyLimitMiddleware:
    """413 for a declared body over the endpoint's limit, before sessions, CSRF or
    authentication read anything."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit():
            limit = body_limit_for(request.path_info)
            if int(declared) > limit:
                # Before LocaleMiddleware and sessions: in the language the request asks for.
                language = translation.get_language_from_request(request)
                with translation.override(language):
                    response = too_large_response(limit)
                response["Content-Language"] = language
                return response
        return self.get_response(request)
