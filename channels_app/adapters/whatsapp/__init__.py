"""WhatsApp Business Cloud API: signed webhooks in (inbound), replies and surveys out
(outbound), customers' files fetched after commit (media), settings and Meta's handshake
(setup), all Graph API calls through one client (graph_api)."""

from channels_app.adapters.whatsapp.adapter import WhatsAppAdapter
from channels_app.adapters.whatsapp.graph_api import DEFAULT_API_BASE_URL, WINDOW_CLOSED

__all__ = ["DEFAULT_API_BASE_URL", "WINDOW_CLOSED", "WhatsAppAdapter"]
