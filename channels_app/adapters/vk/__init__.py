"""VK community messages through the Callback API: events in by webhook (inbound),
replies out by messages.send (outbound), the community's callback server (setup), all
API calls through one client (vk_api)."""

from channels_app.adapters.vk.adapter import VkAdapter
from channels_app.adapters.vk.vk_api import API_VERSION, DEFAULT_API_BASE_URL

__all__ = ["API_VERSION", "DEFAULT_API_BASE_URL", "VkAdapter"]
