"""Stand-ins for the outside world in the demo: a customer's system taking the API
channel's replies and the outgoing webhook's events, and the VK, Viber and Graph (Instagram,
WhatsApp) APIs taking the demo channels' replies."""

import itertools
import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from channels_app.demo_meta import (
    DEMO_INSTAGRAM_CUSTOMER,
    DEMO_INSTAGRAM_NAME,
    DEMO_INSTAGRAM_USERNAME,
)

_sent_ids = itertools.count(1)
# The page of the demo's VK customer (from_id 1001), as users.get gives it.
DEMO_VK_USER = {
    "id": 1001,
    "first_name": "Дмитрий",
    "last_name": "Орлов",
    "screen_name": "dmitry.orlov",
}


@csrf_exempt
@require_POST
def api_callback_sink(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": f"demo-{request.headers.get('X-Switchboard-Signature', '')[-12:]}"})


@csrf_exempt
@require_POST
def webhook_receiver(request: HttpRequest) -> JsonResponse:
    """A company's system taking the demo's outgoing webhook: it answers what it got."""
    return JsonResponse({"received": request.headers.get("X-Switchboard-Event", ""), "ok": True})


@csrf_exempt
@require_POST
def vk_api_stand_in(request: HttpRequest, method: str) -> JsonResponse:
    """VK's answer to a call: a message id for messages.send, the demo customer's page for
    users.get."""
    if method == "users.get":
        return JsonResponse({"response": [DEMO_VK_USER]})
    return JsonResponse({"response": next(_sent_ids)})


@csrf_exempt
@require_POST
def viber_api_stand_in(request: HttpRequest, name: str) -> JsonResponse:
    """Viber's answer to a call: success, with a message token for a sent message."""
    return JsonResponse({"status": 0, "status_message": "ok", "message_token": next(_sent_ids)})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def graph_api_stand_in(request: HttpRequest, path: str) -> JsonResponse:
    """The Graph API's answer: a message id for a sent message (in WhatsApp's shape for a
    WhatsApp one), the demo customer's profile for a look-up."""
    if request.method == "POST":
        message_id = f"demo-{next(_sent_ids)}"
        if _is_whatsapp_send(request.body):
            # WhatsApp Cloud API: the message's wamid.
            return JsonResponse({"messaging_product": "whatsapp", "messages": [{"id": message_id}]})
        recipient = DEMO_INSTAGRAM_CUSTOMER
        return JsonResponse({"recipient_id": recipient, "message_id": message_id})
    person = path.rsplit("/", 1)[-1]
    if person != DEMO_INSTAGRAM_CUSTOMER:
        return JsonResponse({"id": person})
    return JsonResponse(
        {"id": person, "name": DEMO_INSTAGRAM_NAME, "username": DEMO_INSTAGRAM_USERNAME}
    )


def _is_whatsapp_send(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("messaging_product") == "whatsapp"
