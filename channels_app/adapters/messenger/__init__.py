"""Facebook Messenger: a page's signed webhooks in (inbound), replies and surveys out
through the Send API (outbound), settings and the webhook subscription (setup)."""

from channels_app.adapters.messenger.adapter import MessengerAdapter

__all__ = ["MessengerAdapter"]
