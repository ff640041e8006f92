"""The demo's messenger channels: a VK community and a Viber bot (here), an Instagram
account (demo_meta) and a WhatsApp number (demo_whatsapp). Customers' messages come in
through each webhook's own flow; replies go to stand-ins of the platforms' APIs on this
site (demo_views)."""

import json

from django.conf import settings

from channels_app import services as channel_services
from channels_app.adapters.base import hmac_sha256_hex
from channels_app.contracts import WebhookRequest
from channels_app.demo_meta import instagram_demo_config, seed_instagram
from channels_app.demo_whatsapp import DEMO_WHATSAPP_NAME, seed_whatsapp, whatsapp_demo_config
from channels_app.models import Channel

DEMO_VK_SECRET_KEY = "demoSecret2026"
DEMO_VIBER_TOKEN = "demo-viber-token"
# Pictures on this site, completed with PUBLIC_BASE_URL when seeded.
DEMO_VIBER_AVATAR_PATH = "/static/demo/viber-customer.svg"
DEMO_VIBER_SENDER_AVATAR_PATH = "/static/demo/viber-sender.svg"
DEMO_VK_MESSAGE = {
    "type": "message_new",
    "group_id": 1,
    "event_id": "demo-vk-1",
    "v": "5.199",
    "secret": DEMO_VK_SECRET_KEY,
    "object": {
        "message": {
            "id": 1,
            "date": 1765094400,
            "from_id": 1001,
            "peer_id": 1001,
            "out": 0,
            "text": "Здравствуйте! Можно поменять размер в заказе №1093?",
            "attachments": [],
            "fwd_messages": [],
        },
        "client_info": {
            "button_actions": ["text", "callback"],
            "keyboard": True,
            "inline_keyboard": True,
            "lang_id": 0,
        },
    },
}
DEMO_VIBER_MESSAGE = {
    "event": "message",
    "timestamp": 1765094400000,
    "message_token": 4912661846655238001,
    "sender": {
        "id": "demo-viber-user=",
        "name": "Katarzyna Wiśniewska",
        "language": "pl",
        "avatar": DEMO_VIBER_AVATAR_PATH,
    },
    "message": {"type": "text", "text": "Dzień dobry! Czy kurier dziś przyjedzie?"},
}


def seed_messengers(team) -> None:
    """The VK community, the Viber bot, the Instagram account and the WhatsApp number,
    each with a customer's first message."""
    vk = _demo_channel(
        team,
        kind="vk",
        name="Demo VK",
        config={
            "group_id": "1",
            "access_token": "demo-vk-token",
            "secret_key": DEMO_VK_SECRET_KEY,
            "api_base_url": f"{settings.PUBLIC_BASE_URL}/demo/vk",
        },
    )
    viber = _demo_channel(
        team,
        kind="viber",
        name="Demo Viber",
        config={
            "auth_token": DEMO_VIBER_TOKEN,
            "sender_name": "Switchboard demo",
            "sender_avatar": f"{settings.PUBLIC_BASE_URL}{DEMO_VIBER_SENDER_AVATAR_PATH}",
            "welcome_message": {
                "en": "Hello! Write us your question, we answer within the hour.",
                "ru": "Здравствуйте! Напишите ваш вопрос, мы ответим в течение часа.",
                "pl": "Dzień dobry! Napisz nam swoje pytanie, odpowiemy w ciągu godziny.",
            },
            "api_base_url": f"{settings.PUBLIC_BASE_URL}/demo/viber",
        },
    )
    vk_body = json.dumps(DEMO_VK_MESSAGE).encode()
    channel_services.webhook_receive(channel=vk, request=WebhookRequest(body=vk_body, headers={}))
    viber_message = json.loads(json.dumps(DEMO_VIBER_MESSAGE))
    viber_message["sender"]["avatar"] = f"{settings.PUBLIC_BASE_URL}{DEMO_VIBER_AVATAR_PATH}"
    viber_body = json.dumps(viber_message).encode()
    signature = hmac_sha256_hex(DEMO_VIBER_TOKEN, viber_body)
    channel_services.webhook_receive(
        channel=viber,
        request=WebhookRequest(body=viber_body, headers={"x-viber-content-signature": signature}),
    )
    seed_instagram(
        _demo_channel(team, kind="instagram", name="Demo Instagram", config=instagram_demo_config())
    )
    seed_whatsapp(
        _demo_channel(team, kind="whatsapp", name=DEMO_WHATSAPP_NAME, config=whatsapp_demo_config())
    )


def _demo_channel(team, *, kind: str, name: str, config: dict) -> Channel:
    channel = Channel.objects.filter(kind=kind, name=name).first()
    if channel is None:
        channel = channel_services.channel_create(kind=kind, name=name, config=config)
        channel.teams.set([team])
    elif channel.config.get("api_base_url") != config["api_base_url"]:
        # Seeded before for another address (another port): the stand-ins moved with it.
        channel_services.channel_update(
            channel=channel,
            config={key: config[key] for key in ("api_base_url", "sender_avatar") if key in config},
        )
    return channel
