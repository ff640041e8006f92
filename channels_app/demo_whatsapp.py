"""The demo's WhatsApp number: a customer who wrote three days ago, outside the 24-hour
window, through the signed webhook as Meta sends it; their conversation answered and
resolved, so its survey goes a minute later as the channel's approved survey template (to
a stand-in of the Graph API on this site) rather than being lost."""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from channels_app import services as channel_services
from channels_app.adapters.base import hmac_sha256_hex
from channels_app.contracts import WebhookRequest
from channels_app.models import Channel
from inbox import services as inbox_services
from inbox.models import Conversation, ConversationStatus, User

DEMO_WHATSAPP_NAME = "Demo WhatsApp"
DEMO_WHATSAPP_APP_SECRET = "demo-whatsapp-app-secret"
DEMO_WHATSAPP_NUMBER_ID = "106540352242922"
DEMO_WHATSAPP_CUSTOMER = "48601234567"
DEMO_SURVEY_TEMPLATE = {
    "name": "rate_our_help",
    "languages": {"en": "en_US", "ru": "ru", "pl": "pl"},
    "buttons": "quick_reply",
}


def whatsapp_demo_config() -> dict[str, Any]:
    return {
        "phone_number_id": DEMO_WHATSAPP_NUMBER_ID,
        "access_token": "demo-whatsapp-token",
        "app_secret": DEMO_WHATSAPP_APP_SECRET,
        "verify_token": "demo-whatsapp-verify",
        "api_base_url": f"{settings.PUBLIC_BASE_URL}/demo/graph",
        "fallback_template": {"name": "support_follow_up", "language": "en_US"},
        "survey_template": DEMO_SURVEY_TEMPLATE,
    }


def seed_whatsapp(channel: Channel) -> None:
    """Runs once per channel: its customer, their conversation and its resolve."""
    if Conversation.objects.filter(channel=channel).exists():
        return
    channel_services.channel_update(channel=channel, csat={"delay_seconds": 60})
    written_at = timezone.now() - timedelta(days=3)
    body = json.dumps(_text_message(written_at)).encode()
    signature = hmac_sha256_hex(DEMO_WHATSAPP_APP_SECRET, body)
    channel_services.webhook_receive(
        channel=channel,
        request=WebhookRequest(body=body, headers={"x-hub-signature-256": f"sha256={signature}"}),
    )
    conversation = Conversation.objects.filter(channel=channel).first()
    operator = User.objects.filter(username="anna").first()
    if conversation is None or operator is None:
        return
    inbox_services.conversation_assign(conversation=conversation, operator=operator)
    inbox_services.message_reply(
        conversation=conversation,
        author=operator,
        body="Przepraszamy za zwłokę: zamówienie wyszło dziś rano.",
    )
    if conversation.status != ConversationStatus.RESOLVED:
        inbox_services.conversation_resolve(conversation=conversation, resolved_by=operator)


def _text_message(written_at) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": DEMO_WHATSAPP_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Agnieszka Zielińska"},
                                    "wa_id": DEMO_WHATSAPP_CUSTOMER,
                                }
                            ],
                            "messages": [
                                {
                                    "from": DEMO_WHATSAPP_CUSTOMER,
                                    "id": "wamid.demo-whatsapp-1",
                                    "timestamp": str(int(written_at.timestamp())),
                                    "type": "text",
                                    "text": {"body": "Dzień dobry, gdzie jest moje zamówienie?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
