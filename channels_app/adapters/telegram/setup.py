"""Setting a Telegram channel up: checking its bot token and secret, and pointing the
bot's webhook at the channel (management command and admin action)."""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from channels_app.adapters.base import required_secret
from channels_app.adapters.telegram.bot_api import KIND, BotApi
from channels_app.adapters.telegram.inbound import ALLOWED_UPDATES
from channels_app.contracts import DeliveryFailed
from inbox.delivery_failures import failure_in_english

if TYPE_CHECKING:
    from channels_app.models import Channel

BOT_TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramWebhookRegistrationFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TelegramWebhookRegistration:
    url: str
    allowed_updates: tuple[str, ...]
    # What Telegram answered, e.g. "Webhook was set".
    description: str


def telegram_webhook_register(
    *, channel: "Channel", drop_pending_updates: bool = False
) -> TelegramWebhookRegistration:
    """Call setWebhook for the channel's bot: url = PUBLIC_BASE_URL + the channel's webhook
    path, secret_token = its webhook_secret, allowed_updates = the kinds the adapter maps."""
    if channel.kind != KIND:
        raise TelegramWebhookRegistrationFailed(
            f"channel {channel.pk} is a {channel.kind} channel, not a Telegram one"
        )
    url = f"{settings.PUBLIC_BASE_URL}{channel.webhook_path}"
    try:
        description = webhook_set(
            BotApi(channel), url=url, drop_pending_updates=drop_pending_updates
        )
    except DeliveryFailed as failure:
        raise TelegramWebhookRegistrationFailed(failure_in_english(failure.failure)) from failure
    return TelegramWebhookRegistration(
        url=url, allowed_updates=ALLOWED_UPDATES, description=description
    )


def webhook_set(bot: BotApi, *, url: str, drop_pending_updates: bool = False) -> str:
    """Point the bot's webhook at `url` with the channel's secret; returns Telegram's
    description of what it did. Raises DeliveryFailed when Telegram refuses."""
    secret = required_secret(bot.channel, "webhook_secret")
    answer = bot.call_answer(
        "setWebhook",
        {
            "url": url,
            "secret_token": secret,
            "allowed_updates": list(ALLOWED_UPDATES),
            "drop_pending_updates": drop_pending_updates,
        },
    )
    description = answer.get("description")
    return description if isinstance(description, str) and description else "ok"


def secret_format_errors(config: dict[str, Any]) -> dict[str, str]:
    errors = {}
    token = config.get("bot_token")
    if isinstance(token, str) and not BOT_TOKEN_PATTERN.match(token):
        errors["bot_token"] = "must look like 123456789:AA... (the token BotFather gave)"
    secret = config.get("webhook_secret")
    if isinstance(secret, str) and not WEBHOOK_SECRET_PATTERN.match(secret):
        errors["webhook_secret"] = "must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
    return errors
