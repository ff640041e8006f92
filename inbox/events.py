"""What happened to a conversation besides messages (assigned, resolved, labelled…), kept
as rows so the thread can show it between the messages (worded by
inbox.event_wording.conversation_event_text, for the page, live events and the API)."""

from typing import Any

from inbox import realtime
from inbox.models import Conversation, ConversationEvent, User


def conversation_event_record(
    *,
    conversation: Conversation,
    kind: str,
    actor: User | None = None,
    **data: Any,
) -> ConversationEvent:
    """Store one event (inside the caller's transaction) and show it live after commit."""
    event = ConversationEvent.objects.create(
        conversation=conversation, kind=kind, actor=actor, data=data
    )
    realtime.conversation_event_created(event, channel_id=conversation.channel_id)
    return event
