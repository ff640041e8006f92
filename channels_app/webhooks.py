"""Webhook endpoints. Thin: read the request, run the channel-side flow, answer in JSON."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from channels_app import services
from channels_app.contracts import VerificationAnswer, WebhookRejected, WebhookRequest
from channels_app.registry import UnknownChannelKind, adapter_for
from customers.transactions import is_connection_lost


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
    def receive(channel) -> HttpResponse:
        adapter = adapter_for(channel)
        handshake = adapter.answer_posted_handshake(request)
        if handshake is not None:
            return _plain_answer(handshake)
        outcome = services.webhook_receive(channel=channel, request=request)
        if outcome.status_code == 200 and adapter.accepted_answer is not None:
            return _plain_answer(adapter.accepted_answer)
        return JsonResponse(outcome.body, status=outcome.status_code)

    try:
        return _for_active_channel(kind, public_id, receive)
    except DatabaseError as error:
        if connection.in_atomic_block or not is_connection_lost(error):
            raise
        # The connection went away under the request (a database restart, say): once
        # more on a new one. Receiving is idempotent, so nothing is stored twice.
        connection.close()
        return _for_active_channel(kind, public_id, receive)


def _plain_answer(answer: VerificationAnswer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status_code, content_type=answer.content_type)


def _verify_handshake(kind: str, public_id: str, request: WebhookRequest) -> HttpResponse:
    def answer(channel) -> HttpResponse:
        return _plain_answer(services.webhook_verification(channel=channel, request=request))

    return _for_active_channel(kind, public_id, answer)


def _request_for_adapter(request: HttpRequest, body: bytes) -> WebhookRequest:
    return WebhookRequest(
        body=body,
        headers={key.lower(): value for key, value in request.headers.items()},
        query=request.GET.dict(),
        method=request.method or "POST",
    )


@csrf_exempt
def webhook(request: HttpRequest, kind: str, public_id) -> HttpResponse:
    if request.method == "GET":
        return _verify_handshake(kind, str(public_id), _request_for_adapter(request, b""))
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
    return _process(kind, str(public_id), _request_for_adapter(request, body))
