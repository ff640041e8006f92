"""Telegram through the Bot API: Updates in by webhook (inbound), replies out by
sendMessage and friends (outbound), files fetched after commit (media), the bot's webhook
and settings (setup), all calls through one client (bot_api)."""

from channels_app.adapters.telegram.adapter import TelegramAdapter
from channels_app.adapters.telegram.bot_api import DEFAULT_API_BASE_URL, redact_bot_tokens
from channels_app.adapters.telegram.inbound import ALLOWED_UPDATES

__all__ = ["ALLOWED_UPDATES", "DEFAULT_API_BASE_URL", "TelegramAdapter", "redact_bot_tokens"]
