"""Customers' names from VK: a message comes with the sender's id only, so their name and
screen name are asked with users.get by the sender-profile task
(channels_app.sender_profiles) after a new customer's message is stored."""

from channels_app.adapters.vk.vk_api import VkApi
from channels_app.contracts import SenderProfile


def sender_profile(api: VkApi, user_id: str) -> SenderProfile:
    """The user's first and last name and screen name as VK shows them; empty for a
    deleted or banned page."""
    users = api.call("users.get", {"user_ids": user_id, "fields": "screen_name"})
    user = users[0] if isinstance(users, list) and users else None
    if not isinstance(user, dict) or user.get("deactivated"):
        return SenderProfile()
    parts = (user.get("first_name"), user.get("last_name"))
    name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    screen_name = user.get("screen_name")
    # A page without a screen name of its own is shown by VK as id<number>: no handle.
    if not isinstance(screen_name, str) or screen_name.strip() in ("", f"id{user_id}"):
        screen_name = ""
    return SenderProfile(name=name, username=screen_name.strip())
