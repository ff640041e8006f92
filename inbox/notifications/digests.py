"""Notifications by email: an operator who is offline gets what stayed unread for
NOTIFICATION_EMAIL_AFTER_MINUTES as one email, in their language, each notification in
at most one email. Away counts as present (the inbox is open); read in the meantime, or
of a kind the operator does not want by email, it is never sent.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from inbox.models import Conversation, User
from inbox.notifications.models import Notification, NotificationKind
from inbox.notifications.settings import wants
from inbox.selectors.operators import presence_statuses
from inbox.visibility import only_visible

SWEEP_TASK = "inbox.tasks.notifications_email_digests_send"
SWEEP_BATCH = 500


def notifications_email_digests_send() -> int:
    """Send the digests due now; how many notifications they carried."""
    due_before = timezone.now() - timedelta(minutes=settings.NOTIFICATION_EMAIL_AFTER_MINUTES)
    due = Notification.objects.filter(
        read_at__isnull=True, emailed_at__isnull=True, created_at__lte=due_before
    )
    waiting = list(due.values_list("recipient_id", flat=True).distinct()[:SWEEP_BATCH])
    statuses = presence_statuses(waiting)
    # Those still at the inbox are asked again at the next sweep.
    offline = [recipient_id for recipient_id in waiting if statuses.get(recipient_id) == "offline"]
    sent = 0
    for recipient_id in offline:
        with transaction.atomic():
            notifications = list(
                due.filter(recipient_id=recipient_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient", "actor", "message")
                .order_by("id")[:SWEEP_BATCH]
            )
            if not notifications:
                continue  # another sweep took them
            recipient = notifications[0].recipient
            # Of conversations they may still see: one who left a team reads none of its notes.
            visible = set(
                only_visible(
                    Conversation.objects.filter(pk__in={n.conversation_id for n in notifications}),
                    recipient,
                ).values_list("pk", flat=True)
            )
            wanted = [
                item
                for item in notifications
                if item.conversation_id in visible and wants(recipient, item.kind, "email")
            ]
            if wanted and recipient.email and recipient.is_active:
                _digest_send(recipient, wanted)
                sent += len(wanted)
            Notification.objects.filter(pk__in=[item.pk for item in notifications]).update(
                emailed_at=timezone.now()
            )
    return sent


def _digest_send(recipient: User, notifications: list[Notification]) -> None:
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        subject = ngettext(
            "%(count)s notification in Switchboard",
            "%(count)s notifications in Switchboard",
            len(notifications),
        ) % {"count": len(notifications)}
        lines = [
            gettext("While you were away:"),
            "",
            *(_line(notification) for notification in notifications),
            "",
            gettext(
                "These stayed unread while you were offline. To stop these emails, clear "
                "“Email me what I miss” under the bell in the inbox."
            ),
        ]
    # Raises when the mail server refuses: the transaction rolls back and the next sweep
    # tries again.
    send_mail(subject, "\n".join(lines), None, [recipient.email])


def _line(notification: Notification) -> str:
    name = notification.actor.display_name if notification.actor else ""
    if notification.kind == NotificationKind.MENTION:
        what = gettext("%(name)s mentioned you in a note") % {"name": name or gettext("Someone")}
    elif notification.kind == NotificationKind.SLA_DUE_SOON:
        what = gettext("A conversation is due soon")
    elif name:
        what = gettext("%(name)s gave you a conversation") % {"name": name}
    else:
        what = gettext("A conversation was assigned to you")
    excerpt = notification.message.body.strip() if notification.message else ""
    if len(excerpt) > 200:
        excerpt = excerpt[:199] + "…"
    link = f"{settings.PUBLIC_BASE_URL}/?conversation={notification.conversation_id}"
    return f"- {what}{': ' + excerpt if excerpt else ''}\n  {link}"
