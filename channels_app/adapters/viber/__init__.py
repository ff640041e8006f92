"""Viber bots through the REST bot API: signed callbacks in (inbound), replies and surveys
out by /pa/send_message (outbound), the bot's webhook (setup), all calls through one
client (viber_api)."""

from channels_app.adapters.viber.adapter import ViberAdapter
from channels_app.adapters.viber.viber_api import DEFAULT_API_BASE_URL

__all__ = ["DEFAULT_API_BASE_URL", "ViberAdapter"]
