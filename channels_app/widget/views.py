"""The widget's HTTP side: the loader script every embedding page fetches, and uploads."""

import gettext
import json
from functools import cache
from pathlib import Path

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from channels_app.widget import realtime as widget_realtime
from channels_app.widget import services
from channels_app.widget.visitors import visitor_from_token
from inbox.client_addresses import request_client_address

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
CSS_PLACEHOLDER = '"__WIDGET_CSS__"'
CATALOGUES_PLACEHOLDER = '"__WIDGET_CATALOGUES__"'
DEFAULT_LANGUAGE_PLACEHOLDER = '"__WIDGET_DEFAULT_LANGUAGE__"'
# Short enough that a fix reaches visitors within the hour, long enough to spare us.
LOADER_MAX_AGE_SECONDS = 3600


@cache
def _loader_source() -> bytes:
    # The stylesheet travels inside the script: one request, and the styles land in the
    # widget's shadow root, out of the host page's reach.
    # So do its texts in every language: the visitor's browser picks one without a
    # second request.
    script = (STATIC_DIR / "widget.js").read_text()
    css = (STATIC_DIR / "widget.css").read_text()
    for placeholder, value in (
        (CSS_PLACEHOLDER, css),
        (CATALOGUES_PLACEHOLDER, _script_catalogues()),
        (DEFAULT_LANGUAGE_PLACEHOLDER, settings.LANGUAGE_CODE),
    ):
        script = script.replace(placeholder, json.dumps(value, ensure_ascii=False), 1)
    return script.encode()


def _script_catalogues() -> dict[str, dict[str, str]]:
    """The compiled `djangojs` catalogue of each language but English, as {text: translation}."""
    catalogues = {}
    for language, _name in settings.LANGUAGES:
        if language == "en":
            continue
        try:
            compiled = gettext.translation(
                "djangojs", localedir=str(settings.LOCALE_PATHS[0]), languages=[language]
            )
        except FileNotFoundError:
            continue
        # GNUTranslations keeps the entries in _catalog (as Django's JavaScriptCatalog reads
        # them); the key "" is the header.
        entries = getattr(compiled, "_catalog", {})
        catalogues[language] = {
            text: translated
            for text, translated in entries.items()
            if isinstance(text, str) and text and translated
        }
    return catalogues


@require_GET
def widget_loader(request: HttpRequest) -> HttpResponse:
    """`GET /widget.js`: any site may load it; what it may do is decided per channel."""
    response = HttpResponse(_loader_source(), content_type="text/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


VISITOR_TOKEN_HEADER = "X-Switchboard-Visitor"


def _error(status: int, code: str, message: str, origin: str | None) -> HttpResponse:
    return _with_cors(JsonResponse({"error": code, "detail": message}, status=status), origin)


def _with_cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    # Only for a page the channel allows (checked before this is called with an origin).
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = f"{VISITOR_TOKEN_HEADER}, Content-Type"
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


# What a refused visitor message answers over HTTP; other refusals are a 400.
REFUSAL_STATUS = {"too_large": 413, "unsupported_type": 415}


def _refused(refusal: services.VisitorMessageRefused, origin: str | None) -> HttpResponse:
    return _error(REFUSAL_STATUS.get(refusal.code, 400), refusal.code, refusal.detail, origin)


@csrf_exempt
def widget_upload(request: HttpRequest, public_id) -> HttpResponse:
    """`POST /widget/<public_id>/uploads/`: a visitor's file (multipart field `file`, optional
    `text` and `client_id`), with the visitor token in `X-Switchboard-Visitor`. At most
    10 MB; images, PDF, plain text and office documents only. Answers the stored message
    in the widget's `message` frame shape, and the visitor's open tabs receive it too."""
    origin = request.headers.get("Origin")
    channel = services.widget_channel_for_origin(public_id=str(public_id), origin=origin)
    if channel is None:
        # Not for this page (or no such channel): no CORS headers, the browser hides it.
        return JsonResponse({"error": "not_found", "detail": "no chat for this page"}, status=404)
    if request.method == "OPTIONS":
        return _with_cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return _error(405, "method_not_allowed", "use POST", origin)
    visitor = visitor_from_token(
        public_id=str(channel.public_id), token=request.headers.get(VISITOR_TOKEN_HEADER, "")
    )
    if visitor is None:
        return _error(401, "invalid_token", f"{VISITOR_TOKEN_HEADER} is missing or invalid", origin)
    try:
        declared_length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared_length = 0
    if declared_length > services.MAX_UPLOAD_REQUEST_BYTES:
        return _error(413, "too_large", str(services.TOO_LARGE_DETAIL), origin)
    upload = request.FILES.get("file")
    if upload is None:
        return _error(400, "malformed", _("Send the file as the multipart field “file”."), origin)
    try:
        filename, content_type = services.visitor_upload_accept(
            filename=upload.name or "", declared_type=upload.content_type or "", size=upload.size
        )
    except services.VisitorMessageRefused as refusal:
        return _refused(refusal, origin)
    text = request.POST.get("text", "")
    if not async_to_sync(services.visitor_message_allowed)(
        visitor_id=visitor.visitor_id, address=request_client_address(request)
    ):
        return _error(
            429,
            "rate_limited",
            _("You are sending messages too fast. Please wait a few seconds."),
            origin,
        )
    try:
        outcome = services.visitor_message_send(
            channel=channel,
            visitor=visitor,
            text=text,
            client_id=request.POST.get("client_id", ""),
            attachment=services.VisitorAttachment(
                file=upload, filename=filename, content_type=content_type
            ),
        )
    except services.VisitorMessageRefused as refusal:
        return _refused(refusal, origin)
    widget_realtime.visitor_send_now(
        channel_id=channel.pk,
        visitor_id=visitor.visitor_id,
        payload={"type": "message", "message": outcome.message},
    )
    return _with_cors(JsonResponse({"message": outcome.message}, status=201), origin)
