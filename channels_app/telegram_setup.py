"""Pointing a Telegram bot's webhook at its channel (management command and admin action)."""

from dataclasses import dataclass

from django.conf import settings

from channels_app.adapters.telegram import ALLOWED_UPDATES, TelegramAdapter
from channels_app.contracts import DeliveryFailed
from channels_app.models import Channel


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
    *, channel: Channel, drop_pending_updates: bool = False
) -> TelegramWebhookRegistration:
    """Call setWebhook for the channel's bot: url = PUBLIC_BASE_URL + the channel's webhook
    path, secret_token = its webhook_secret, allowed_updates = the kinds the adapter maps."""
    if channel.kind != TelegramAdapter.kind:
        raise TelegramWebhookRegistrationFailed(
            f"channel {channel.pk} is a {channel.kind} channel, not a Telegram one"
        )
    url = f"{settings.PUBLIC_BASE_URL}{channel.webhook_path}"
    try:
        description = TelegramAdapter(channel).webhook_register(
            url=url, drop_pending_updates=drop_pending_updates
        )
    except DeliveryFailed as failure:
        raise TelegramWebhookRegistrationFailed(failure.reason) from failure
    return TelegramWebhookRegistration(
        url=url, allowed_updates=ALLOWED_UPDATES, description=description
    )
