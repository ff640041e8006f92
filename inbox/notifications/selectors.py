"""An operator's notifications, newest first, and how many are unread: only of the
conversations they may still see (one who left a team no longer reads its notes)."""

from django.db.models import QuerySet

from inbox.models import Conversation, User
from inbox.notifications.models import Notification
from inbox.visibility import only_visible

LIST_LIMIT = 50


def notifications_recent_for(user: User, *, limit: int = LIST_LIMIT) -> list[Notification]:
    """One query: the notifications with their actor and message."""
    return list(_visible_to(user).select_related("actor", "message").order_by("-id")[:limit])


def notifications_unread_count(user: User) -> int:
    return _visible_to(user).filter(read_at__isnull=True).count()


def _visible_to(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(
        recipient=user, conversation__in=only_visible(Conversation.objects.all(), user)
    )
