"""Notifications made, pushed live to their recipient, and read.

A private note that names `@username` notifies each active operator so named who may see
the conversation (never its author); a conversation given to an operator by someone else
or by a rule notifies that operator; an assigned conversation coming due notifies its
operator. Each operator chooses which kinds they want
(`User.notification_settings`); what they do not want is not made.
"""

import re
from collections.abc import Collection

from django.db.models import Q
from django.utils import timezone

from inbox import realtime
from inbox.models import Conversation, Message, User
from inbox.notifications.models import Notification, NotificationKind
from inbox.notifications.representation import notification_json
from inbox.notifications.selectors import notifications_unread_count
from inbox.notifications.settings import wants
from inbox.visibility import users_who_see

# "@anna", "@anna.k" or "@anna_k", not an email address's "@".
MENTION = re.compile(r"(?<![\w.@])@([\w][\w.+-]*\w|\w)", re.UNICODE)
MOST_MENTIONS = 20


def mentioned_usernames(body: str) -> list[str]:
    names = {match.lower() for match in MENTION.findall(body)}
    return sorted(names)[:MOST_MENTIONS]


def notifications_for_note(*, note: Message, conversation: Conversation) -> list[Notification]:
    names = mentioned_usernames(note.body)
    if not names:
        return []
    matching = Q()
    for name in names:
        matching |= Q(username__iexact=name)
    named = users_who_see(
        User.objects.filter(matching, is_active=True), channel_id=conversation.channel_id
    )
    recipients = [
        user
        for user in named
        if user.pk != note.author_id and wants(user, NotificationKind.MENTION)
    ]
    return _notify(
        recipients, NotificationKind.MENTION, conversation, message=note, actor=note.author
    )


def notification_for_assignment(
    *, conversation: Conversation, operator: User, actor: User | None
) -> list[Notification]:
    if actor is not None and actor.pk == operator.pk:
        return []
    if not wants(operator, NotificationKind.ASSIGNED):
        return []
    return _notify([operator], NotificationKind.ASSIGNED, conversation, actor=actor)


def notifications_for_due_soon(conversations: list[Conversation]) -> list[Notification]:
    """Each assigned conversation coming due, to its operator (the team's other members get
    the live notice alone). One query, then one insert, whatever the number."""
    assignee_ids = {c.assignee_id for c in conversations if c.assignee_id is not None}
    assignees = {
        user.pk: user
        for user in User.objects.filter(pk__in=assignee_ids, is_active=True)
        if wants(user, NotificationKind.SLA_DUE_SOON)
    }
    made: list[Notification] = []
    for conversation in conversations:
        assignee = assignees.get(conversation.assignee_id)  # type: ignore[arg-type]
        if assignee is not None:
            made.append(
                Notification(
                    recipient=assignee,
                    kind=NotificationKind.SLA_DUE_SOON,
                    conversation=conversation,
                )
            )
    return _pushed(Notification.objects.bulk_create(made))


def notifications_mark_read(*, user: User, ids: Collection[int] | None) -> int:
    """Marks these of the user's notifications read (all of them for None); the number
    still unread."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    (unread if ids is None else unread.filter(pk__in=ids)).update(read_at=timezone.now())
    return notifications_unread_count(user)


def _notify(
    recipients: list[User],
    kind: str,
    conversation: Conversation,
    *,
    message: Message | None = None,
    actor: User | None = None,
) -> list[Notification]:
    return _pushed(
        Notification.objects.bulk_create(
            Notification(
                recipient=recipient,
                kind=kind,
                conversation=conversation,
                message=message,
                actor=actor,
            )
            for recipient in recipients
        )
    )


def _pushed(made: list[Notification]) -> list[Notification]:
    for notification in made:
        realtime.broadcast_on_commit(
            [realtime.operator_group(notification.recipient_id)],
            {"type": "notification.created", "notification": notification_json(notification)},
        )
    return made
