"""An operator's notifications, newest first, and how many are unread."""

from inbox.models import User
from inbox.notifications.models import Notification

LIST_LIMIT = 50


def notifications_recent_for(user: User, *, limit: int = LIST_LIMIT) -> list[Notification]:
    """One query: the notifications with their actor and message."""
    return list(
        Notification.objects.filter(recipient=user)
        .select_related("actor", "message")
        .order_by("-id")[:limit]
    )


def notifications_unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
