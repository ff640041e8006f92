"""What both receiving paths store: one definition of an inbound message's row, of a new
conversation's team, and of when a new conversation is queued for assignment."""

from typing import Any

from channels_app.contracts import InboundMessage
from inbox.content_items import content_items_stored
from inbox.models import Conversation, MessageDirection, MessageStatus, Team
from inbox.task_outbox import task_send_on_commit

AUTO_ASSIGN_TASK = "inbox.tasks.conversation_auto_assign"


def inbound_message_values(inbound: InboundMessage) -> dict[str, Any]:
    """The columns of a stored inbound message besides its conversation, channel and
    times (`created_at`, `updated_at`), by name."""
    return {
        "direction": MessageDirection.INBOUND,
        "author_id": None,
        "body": inbound.text,
        "body_full": inbound.full_text,
        "body_html": inbound.html,
        "content_items": content_items_stored(inbound.content_items),
        "is_private": False,
        "status": MessageStatus.RECEIVED,
        "error": "",
        "external_id": inbound.external_id,
        "delivery_attempts": 0,
        "delivery_progress": None,
        "sent_at": inbound.sent_at,
        "edited_at": None,
    }


INBOUND_MESSAGE_COLUMNS = tuple(
    inbound_message_values(InboundMessage(external_id="", recipient_address="", identities=()))
)


def default_team(teams: list[Team]) -> Team | None:
    """A channel served by exactly one team files its new conversations under that team.
    `teams`: at most the first two teams serving the channel."""
    return teams[0] if len(teams) == 1 else None


def channel_default_team(channel) -> Team | None:
    return default_team(list(channel.teams.all()[:2]))


def is_assigned_automatically(team: Team | None) -> bool:
    return team is not None and team.auto_assign


def conversation_auto_assign_on_commit(conversation: Conversation) -> None:
    """Queue automatic assignment of a conversation just opened, when its team wants it."""
    if is_assigned_automatically(conversation.team):
        task_send_on_commit(AUTO_ASSIGN_TASK, [conversation.pk])
