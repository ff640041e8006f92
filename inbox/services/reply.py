"""An operator's reply or private note: stored, queued for delivery after commit, shown live."""

import logging
from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import realtime
from inbox.attachments import attachments_check, attachments_store
from inbox.models import (
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
    User,
)
from inbox.notifications.services import notifications_for_note
from inbox.outgoing_webhooks.emitting import (
    conversation_event,
    message_event,
    webhook_events_emit,
)
from inbox.services.conversation_actions import ConversationActionInvalid
from inbox.services.delivery import enqueue_delivery
from inbox.sla.clock import sla_meet_on_reply

logger = logging.getLogger(__name__)


def message_reply(
    *,
    conversation: Conversation,
    author: User | None,
    body: str,
    is_private: bool = False,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """An operator's reply (sent on the conversation's channel) or private note, with any
    attached files stored as its attachments (AttachmentRejected when one is not allowed).
    No author: an automation rule wrote it."""
    if not is_private and conversation.erased_at is not None and not conversation.recipient_address:
        # The customer's personal data was erased: there is no address left to send to.
        raise ConversationActionInvalid(
            gettext("this customer's personal data was erased; a reply cannot reach them")
        )
    accepted = attachments_check(files=files)
    if not body.strip() and not accepted:
        raise ConversationActionInvalid(gettext("a reply needs a body or a file"))
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=MessageDirection.OUTBOUND,
            author=author,
            body=body,
            is_private=is_private,
            status=MessageStatus.INTERNAL if is_private else MessageStatus.QUEUED,
        )
        attachments = attachments_store(message=message, files=accepted)
        if not is_private:
            conversation.last_message_at = now
            fields = ["last_message_at", "updated_at"]
            if conversation.first_response_at is None:
                conversation.first_response_at = now
                fields.append("first_response_at")
            fields += sla_meet_on_reply(conversation, now=now)
            conversation.save(update_fields=fields)
            enqueue_delivery(message)
        realtime.message_created(
            message, channel_id=conversation.channel_id, attachments=attachments
        )
        if is_private:
            notifications_for_note(note=message, conversation=conversation)
        webhook_events = [message_event(message, attachments=attachments)]
        if not is_private:
            # Read once for the live event and the webhook's.
            labels = list(conversation.labels.all())
            realtime.conversation_changed(conversation, labels=labels)
            webhook_events.append(conversation_event(conversation, labels=labels))
        webhook_events_emit(webhook_events)
    return message
