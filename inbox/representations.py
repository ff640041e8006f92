"""The JSON shapes of DESIGN.md's public interface, shared by the REST API and live events.

Plain functions over rows already loaded (with their relations selected), so that a
list costs no query per item and an event is serialized once.
"""

import html
import re
from datetime import datetime
from typing import Any

from inbox.attachments import attachment_public_url
from inbox.models import (
    Attachment,
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    Label,
    Message,
    User,
)


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
    # Signed links: the HTML is shown in a sandboxed frame, whose requests carry no session.
    by_content_id = {
        attachment.content_id: attachment_public_url(attachment)
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


def label_representation(label: Label) -> dict[str, Any]:
    return {"id": label.pk, "name": label.name, "color": label.color}


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
        "labels": [label_representation(label) for label in conversation.labels.all()],
        "created_at": _time(conversation.created_at),
        "updated_at": _time(conversation.updated_at),
    }


def conversation_event_representation(event: ConversationEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "conversation_id": event.conversation_id,
        "kind": event.kind,
        "actor": operator_representation(event.actor) if event.actor_id else None,
        "data": event.data,
        "text": conversation_event_text(event),
        "created_at": _time(event.created_at),
    }


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def _until(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return moment.strftime("%d %b %H:%M UTC")


def conversation_event_text(event: ConversationEvent) -> str:
    """The event as one line of the thread: "Anna assigned this to Ben"."""
    actor = _name(event.actor) if event.actor_id else ""
    data = event.data or {}
    kind = event.kind
    if kind == ConversationEventKind.ASSIGNED:
        operator = data.get("operator", "")
        if actor and actor == operator:
            return f"{actor} took this conversation"
        return f"{actor} assigned this to {operator}" if actor else f"Assigned to {operator}"
    if kind == ConversationEventKind.UNASSIGNED:
        who = data.get("operator", "")
        return f"{actor} unassigned {who}" if actor else f"{who} was unassigned"
    if kind == ConversationEventKind.TEAM_CHANGED:
        team = data.get("team")
        if not team:
            return f"{actor} removed the team" if actor else "The team was removed"
        return f"{actor} moved this to {team}" if actor else f"Moved to {team}"
    if kind == ConversationEventKind.RESOLVED:
        return f"{actor} resolved this" if actor else "Resolved"
    if kind == ConversationEventKind.REOPENED:
        if data.get("reason") == "customer_wrote":
            return "Reopened: the customer wrote again"
        if data.get("reason") == "snooze_ended":
            return "Snooze ended"
        return f"{actor} reopened this" if actor else "Reopened"
    if kind == ConversationEventKind.SNOOZED:
        until = _until(data.get("until", ""))
        return f"{actor} snoozed this until {until}" if actor else f"Snoozed until {until}"
    if kind == ConversationEventKind.PRIORITY_CHANGED:
        priority = data.get("priority_label") or data.get("priority", "")
        return f"{actor} set the priority to {priority}" if actor else f"Priority: {priority}"
    if kind == ConversationEventKind.LABELS_CHANGED:
        parts = []
        for verb in ("added", "removed"):
            names = data.get(verb) or []
            if names:
                noun = "label" if len(names) == 1 else "labels"
                parts.append(f"{verb} the {noun} {', '.join(names)}")
        change = " and ".join(parts) or "changed the labels"
        return f"{actor} {change}" if actor else change[:1].upper() + change[1:]
    if kind == ConversationEventKind.MERGED:
        merged, survivor = data.get("merged", ""), data.get("survivor", "")
        text = f"merged customer {merged} into {survivor}"
        return f"{actor} {text}" if actor else text[:1].upper() + text[1:]
    return kind
