"""A notification as the API and the live event give it."""

from typing import Any

from inbox.notifications.models import Notification


def notification_json(notification: Notification) -> dict[str, Any]:
    actor = notification.actor
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "conversation": notification.conversation_id,
        "message": notification.message_id,
        "actor": None if actor is None else {"id": actor.pk, "name": actor.display_name},
        "excerpt": _excerpt(notification),
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def _excerpt(notification: Notification) -> str:
    message = notification.message
    if message is None:
        return ""
    text = " ".join(message.body.split())
    return text if len(text) <= 140 else text[:139] + "…"
