"""The JSON shapes of DESIGN.md's public interface, shared by the REST API and live events.

Plain functions over rows already loaded (with their relations selected), so that a
list costs no query per item and an event is serialized once.
"""

import html
import re
from typing import Any

from inbox.models import Attachment, Conversation, Message, User


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def operator_representation(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def attachment_representation(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment.url,
    }


_CID_SOURCE = re.compile(r"""(\bsrc\s*=\s*["']?)cid:([^"'\s>]+)""", re.IGNORECASE)


def html_with_inline_images(message: Message) -> str:
    """The message's HTML with `cid:` image sources replaced by their attachments' URLs."""
    by_content_id = {
        attachment.content_id: attachment.url
        for attachment in message.attachments.all()
        if attachment.content_id
    }
    if not by_content_id:
        return message.body_html

    def source(match: re.Match[str]) -> str:
        url = by_content_id.get(match.group(2))
        return f"{match.group(1)}{html.escape(url)}" if url else match.group(0)

    return _CID_SOURCE.sub(source, message.body_html)


def message_representation(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "body": message.body,
        # Email only (empty elsewhere): the text with its quoted history and signature,
        # and the sanitised HTML part with inline images pointing at their attachments.
        "body_full": message.body_full,
        "body_html": html_with_inline_images(message) if message.body_html else "",
        "private": message.is_private,
        "status": message.status,
        "error": message.error,
        "external_id": message.external_id,
        "author": operator_representation(message.author) if message.author_id else None,
        "attachments": [attachment_representation(a) for a in message.attachments.all()],
        "created_at": _time(message.created_at),
        "sent_at": _time(message.sent_at),
        "edited_at": _time(message.edited_at),
    }


def conversation_representation(conversation: Conversation) -> dict[str, Any]:
    channel = conversation.channel
    customer = conversation.customer
    team = conversation.team
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": conversation.subject,
        "channel": {"id": channel.pk, "kind": channel.kind, "name": channel.name},
        "customer": {"id": customer.pk, "name": customer.name},
        "assignee": operator_representation(conversation.assignee)
        if conversation.assignee_id
        else None,
        "team": {"id": team.pk, "name": team.name} if team else None,
        "last_message_at": _time(conversation.last_message_at),
        "first_response_at": _time(conversation.first_response_at),
        "resolved_at": _time(conversation.resolved_at),
        "resolved_by": operator_representation(conversation.resolved_by)
        if conversation.resolved_by_id
        else None,
        "snoozed_until": _time(conversation.snoozed_until),
        "created_at": _time(conversation.created_at),
        "updated_at": _time(conversation.updated_at),
    }
