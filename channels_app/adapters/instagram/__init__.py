"""Instagram Direct: an Instagram professional account's signed webhooks in (inbound),
replies and surveys out through the Send API (outbound), settings and the webhook
subscription (setup)."""

from channels_app.adapters.instagram.adapter import InstagramAdapter

__all__ = ["InstagramAdapter"]
