"""Customers' names from VK: a message comes with the sender's id only, so their name is
asked with users.get by the sender-name task (channels_app.sender_profiles) after a new
customer's first message is stored."""

from channels_app.adapters.vk.vk_api import VkApi


def sender_name(api: VkApi, user_id: str) -> str:
    """The user's first and last name as VK shows them; "" for a deleted or banned page."""
    users = api.call("users.get", {"user_ids": user_id})
    user = users[0] if isinstance(users, list) and users else None
    if not isinstance(user, dict) or user.get("deactivated"):
        return ""
    parts = (user.get("first_name"), user.get("last_name"))
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
