"""Customers' names from VK: a message comes with the sender's id only, so their name is
asked with users.get by a task after the message is stored, at most once a day each."""

from celery import current_app as celery_app
from django.core.cache import cache

from channels_app.adapters.vk.inbound import EVENT_EXTERNAL_ID_PREFIX
from channels_app.adapters.vk.vk_api import VkApi
from channels_app.contracts import FETCH_SENDER_NAME_TASK, InboundEvent, InboundMessage

ASK_AGAIN_SECONDS = 60 * 60 * 24


def sender_names_fetch_later(channel, events: list[InboundEvent]) -> None:
    """Queue a users.get for each customer who wrote and was not asked about lately.
    Never raises."""
    senders = {
        event.recipient_address
        for event in events
        if isinstance(event, InboundMessage)
        and not event.external_id.startswith(EVENT_EXTERNAL_ID_PREFIX)
    }
    for user_id in sorted(senders):
        try:
            if cache.add(f"vk:name-asked:{channel.pk}:{user_id}", 1, ASK_AGAIN_SECONDS):
                celery_app.send_task(FETCH_SENDER_NAME_TASK, args=[channel.pk, user_id])
        except Exception:
            return


def sender_name(api: VkApi, user_id: str) -> str:
    """The user's first and last name as VK shows them; "" for a deleted or banned page."""
    users = api.call("users.get", {"user_ids": user_id})
    user = users[0] if isinstance(users, list) and users else None
    if not isinstance(user, dict) or user.get("deactivated"):
        return ""
    parts = (user.get("first_name"), user.get("last_name"))
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
