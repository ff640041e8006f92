"""Webhook endpoints. Thin: read the request, run the channel-side flow in one thread hop."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, close_old_connections, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from channels_app import services
from channels_app.contracts import WebhookRejected, WebhookRequest
from channels_app.registry import UnknownChannelKind
from config.transactions import is_connection_lost


def error_response(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


ERROR_CODES = {
    400: "malformed",
    401: "invalid_signature",
    403: "forbidden",
    405: "method_not_allowed",
    413: "too_large",
}


def _for_active_channel(kind: str, public_id: str, action) -> HttpResponse:
    """Run `action(channel)`, answering an unknown channel or a refused request in JSON."""
    try:
        channel = services.channel_get_active(kind=kind, public_id=public_id)
        return action(channel)
    except (services.ChannelNotFound, UnknownChannelKind):
        return error_response(404, "not_found", "no active channel of that kind has this id")
    except WebhookRejected as rejection:
        code = ERROR_CODES.get(rejection.status_code, "rejected")
        return error_response(rejection.status_code, code, rejection.detail)


def _process(kind: str, public_id: str, request: WebhookRequest) -> HttpResponse:
    if not settings.WEBHOOK_THREAD_SENSITIVE and connection.errors_occurred:
        # Pool threads live outside Django's request cycle: after a database error,
        # drop a broken connection ourselves, as the request signals would. (Not on
        # every request: with health checks on, that costs a `SELECT 1` each time.)
        close_old_connections()

    def receive(channel) -> HttpResponse:
        outcome = services.webhook_receive(channel=channel, request=request)
        return JsonResponse(outcome.body, status=outcome.status_code)

    try:
        return _for_active_channel(kind, public_id, receive)
    except DatabaseError as error:
        if (
            settings.WEBHOOK_THREAD_SENSITIVE
            or connection.in_atomic_block
            or not is_connection_lost(error)
        ):
            raise
        # The connection this pool thread kept was lost (a database restart, say): once
        # more on a new one. Receiving is idempotent, so nothing is stored twice.
        connection.close()
        return _for_active_channel(kind, public_id, receive)


def _verify_handshake(kind: str, public_id: str, request: WebhookRequest) -> HttpResponse:
    def answer(channel) -> HttpResponse:
        verification = services.webhook_verification(channel=channel, request=request)
        return HttpResponse(
            verification.body,
            status=verification.status_code,
            content_type=verification.content_type,
        )

    return _for_active_channel(kind, public_id, answer)


def _request_for_adapter(request: HttpRequest, body: bytes) -> WebhookRequest:
    return WebhookRequest(
        body=body,
        headers={key.lower(): value for key, value in request.headers.items()},
        query=request.GET.dict(),
        method=request.method or "POST",
    )


@csrf_exempt
async def webhook(request: HttpRequest, kind: str, public_id) -> HttpResponse:
    if request.method == "GET":
        return await sync_to_async(_verify_handshake)(
            kind, str(public_id), _request_for_adapter(request, b"")
        )
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "use POST")
    # A raw email carries its attachments; platform webhooks only refer to theirs.
    limit = settings.EMAIL_INBOUND_MAX_BYTES if kind == "email" else settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return error_response(413, "too_large", f"the body is over {limit} bytes")
    try:
        body = request.body
    except RequestDataTooBig:
        return error_response(413, "too_large", f"the body is over {limit} bytes")
    if len(body) > limit:
        return error_response(413, "too_large", f"the body is over {limit} bytes")
    webhook_request = _request_for_adapter(request, body)
    # One hop for all the database work, into a thread pool rather than the single
    # shared sync thread, so webhooks do not queue behind each other.
    return await sync_to_async(_process, thread_sensitive=settings.WEBHOOK_THREAD_SENSITIVE)(
        kind, str(public_id), webhook_request
    )
