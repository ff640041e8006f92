"""The JSON shapes of DESIGN.md's public interface, shared by the REST API and live events.

Plain functions over rows already loaded (with their relations selected), so that a
list costs no query per item and an event is serialized once.
"""

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from customers.models import Customer
from inbox.attachments import attachment_public_url
from inbox.content_items import content_items_representation
from inbox.delivery_failures import failure_code, failure_text
from inbox.event_wording import conversation_event_text
from inbox.models import (
    Attachment,
    Conversation,
    ConversationEvent,
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


def _operator_from_row(row: Mapping[str, Any], relation: str) -> dict[str, Any] | None:
    if not row[f"{relation}_id"]:
        return None
    username = row[f"{relation}__username"]
    # As User.display_name: the full name, else the username.
    full_name = f"{row[f'{relation}__first_name']} {row[f'{relation}__last_name']}".strip()
    return {"id": row[f"{relation}_id"], "username": username, "name": full_name or username}


def _operator_columns(relation: str, user: User | None) -> dict[str, Any]:
    return {
        f"{relation}__username": user.username if user else None,
        f"{relation}__first_name": user.first_name if user else None,
        f"{relation}__last_name": user.last_name if user else None,
    }


def attachment_representation(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment.url,
    }


_CID_SOURCE = re.compile(r"""\bsrc(\s*=\s*["']?)cid:([^"'\s>]+)""", re.IGNORECASE)


def body_html_with_inline_images(body_html: str, attachments: Sequence[Attachment]) -> str:
    """The HTML with `cid:` sources pointing at their stored attachments.

    A `cid:` the message does not carry keeps its name in `data-missing-src`: left as a
    source, the browser would try to fetch it.
    """
    if "cid:" not in body_html.lower():
        return body_html
    # Signed links: the HTML is shown in a sandboxed frame, whose requests carry no session.
    by_content_id = {
        attachment.content_id: attachment_public_url(attachment)
        for attachment in attachments
        if attachment.content_id
    }

    def source(match: re.Match[str]) -> str:
        url = by_content_id.get(match.group(2))
        if url is None:
            return f"data-missing-src{match.group(1)}cid:{match.group(2)}"
        return f"src{match.group(1)}{html.escape(url)}"

    return _CID_SOURCE.sub(source, body_html)


def html_with_inline_images(message: Message) -> str:
    """The message's HTML with `cid:` image sources replaced by their attachments' URLs."""
    return body_html_with_inline_images(message.body_html, list(message.attachments.all()))


# A message as lists read it: one flat row with these keys (ORM lookups), plus
# "attachments", the message's Attachment rows.
MESSAGE_ROW_FIELDS = (
    "id",
    "conversation_id",
    "direction",
    "body",
    "body_full",
    "body_html",
    "content_items",
    "is_private",
    "status",
    "error",
    "external_id",
    "author_id",
    "author__username",
    "author__first_name",
    "author__last_name",
    "created_at",
    "sent_at",
    "edited_at",
    "sent_from",
    "reaction",
    "deleted_at",
)


def message_row_representation(row: Mapping[str, Any]) -> dict[str, Any]:
    """The message's public shape, from a row of MESSAGE_ROW_FIELDS and its attachments."""
    attachments = row["attachments"]
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "direction": row["direction"],
        "body": row["body"],
        # Email only (empty elsewhere): the text with its quoted history and signature,
        # and the sanitised HTML part with inline images pointing at their attachments.
        "body_full": row["body_full"],
        "body_html": body_html_with_inline_images(row["body_html"], attachments)
        if row["body_html"]
        else "",
        "private": row["is_private"],
        "status": row["status"],
        # Worded in the reader's language (see inbox.delivery_failures).
        "error": failure_text(row["error"]),
        "error_code": failure_code(row["error"]),
        "external_id": row["external_id"],
        "author": _operator_from_row(row, "author"),
        "sent_from": row["sent_from"],
        "attachments": [attachment_representation(a) for a in attachments],
        # What it carried besides text and files, each with a line worded in the
        # reader's language (see inbox.content_items).
        "content_items": content_items_representation(row["content_items"]),
        "created_at": _time(row["created_at"]),
        "sent_at": _time(row["sent_at"]),
        "edited_at": _time(row["edited_at"]),
        "reaction": row["reaction"],
        "deleted_at": _time(row["deleted_at"]),
    }


def message_row(
    message: Message, *, attachments: Sequence[Attachment] | None = None
) -> dict[str, Any]:
    """A loaded message (its author selected) as a row of MESSAGE_ROW_FIELDS; its
    `attachments` as given by the code that stored them, else prefetched or read."""
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "body": message.body,
        "body_full": message.body_full,
        "body_html": message.body_html,
        "content_items": message.content_items,
        "is_private": message.is_private,
        "status": message.status,
        "error": message.error,
        "external_id": message.external_id,
        "author_id": message.author_id,
        **_operator_columns("author", message.author if message.author_id else None),
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "edited_at": message.edited_at,
        "sent_from": message.sent_from,
        "reaction": message.reaction,
        "deleted_at": message.deleted_at,
        "attachments": list(message.attachments.all() if attachments is None else attachments),
    }


def message_representation(
    message: Message, *, attachments: Sequence[Attachment] | None = None
) -> dict[str, Any]:
    return message_row_representation(message_row(message, attachments=attachments))


def label_values_representation(label_id: int, name: str, color: str) -> dict[str, Any]:
    return {"id": label_id, "name": name, "color": color}


def label_representation(label: Label) -> dict[str, Any]:
    return label_values_representation(label.pk, label.name, label.color)


# A conversation as lists read it: one flat row with these keys (ORM lookups), however the
# selector gathered them, so that a page of a list builds no model instances. Plus
# "labels": (id, name, color) of each, by name.
CONVERSATION_ROW_FIELDS = (
    "id",
    "status",
    "priority",
    "subject",
    "channel_id",
    "channel__kind",
    "channel__name",
    "customer_id",
    "customer__name",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "team_id",
    "team__name",
    "last_message_at",
    "first_response_at",
    "resolved_at",
    "resolved_by_id",
    "resolved_by__username",
    "resolved_by__first_name",
    "resolved_by__last_name",
    "snoozed_until",
    "created_at",
    "updated_at",
    "sla_policy_id",
    "sla_policy__name",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
)

# The targets an SLA names as breached, in this order.
SLA_TARGETS = ("first_response", "next_response", "resolution")


def _sla_from_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if row["sla_policy_id"] is None:
        return None
    return {
        "policy": {"id": row["sla_policy_id"], "name": row["sla_policy__name"]},
        "first_response_due_at": _time(row["first_response_due_at"]),
        "next_response_due_at": _time(row["next_response_due_at"]),
        "resolution_due_at": _time(row["resolution_due_at"]),
        "breached": [target for target in SLA_TARGETS if row[f"{target}_breached"]],
    }


def conversation_row_representation(row: Mapping[str, Any]) -> dict[str, Any]:
    """The conversation's public shape, from a row of CONVERSATION_ROW_FIELDS and labels."""
    return {
        "id": row["id"],
        "status": row["status"],
        "priority": row["priority"],
        "subject": row["subject"],
        "channel": {
            "id": row["channel_id"],
            "kind": row["channel__kind"],
            "name": row["channel__name"],
        },
        "customer": {"id": row["customer_id"], "name": row["customer__name"]},
        "assignee": _operator_from_row(row, "assignee"),
        "team": {"id": row["team_id"], "name": row["team__name"]} if row["team_id"] else None,
        "last_message_at": _time(row["last_message_at"]),
        "first_response_at": _time(row["first_response_at"]),
        "resolved_at": _time(row["resolved_at"]),
        "resolved_by": _operator_from_row(row, "resolved_by"),
        "snoozed_until": _time(row["snoozed_until"]),
        "labels": [label_values_representation(*label) for label in row["labels"]],
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
        "sla": _sla_from_row(row),
    }


def conversation_row(
    conversation: Conversation, *, labels: Sequence[Label] | None = None
) -> dict[str, Any]:
    """A loaded conversation (its relations selected) as a row of CONVERSATION_ROW_FIELDS;
    its `labels` as given (none for a conversation just opened), else prefetched or read."""
    channel, customer, team = conversation.channel, conversation.customer, conversation.team
    assignee = conversation.assignee if conversation.assignee_id else None
    resolved_by = conversation.resolved_by if conversation.resolved_by_id else None
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": conversation.subject,
        "channel_id": channel.pk,
        "channel__kind": channel.kind,
        "channel__name": channel.name,
        "customer_id": customer.pk,
        "customer__name": customer.name,
        "assignee_id": conversation.assignee_id,
        **_operator_columns("assignee", assignee),
        "team_id": team.pk if team else None,
        "team__name": team.name if team else None,
        "last_message_at": conversation.last_message_at,
        "first_response_at": conversation.first_response_at,
        "resolved_at": conversation.resolved_at,
        "resolved_by_id": conversation.resolved_by_id,
        **_operator_columns("resolved_by", resolved_by),
        "snoozed_until": conversation.snoozed_until,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "sla_policy_id": conversation.sla_policy_id,
        "sla_policy__name": conversation.sla_policy.name  # type: ignore[union-attr]
        if conversation.sla_policy_id
        else None,
        "first_response_due_at": conversation.first_response_due_at,
        "next_response_due_at": conversation.next_response_due_at,
        "resolution_due_at": conversation.resolution_due_at,
        "first_response_breached": conversation.first_response_breached,
        "next_response_breached": conversation.next_response_breached,
        "resolution_breached": conversation.resolution_breached,
        "labels": [
            (label.pk, label.name, label.color)
            for label in (conversation.labels.all() if labels is None else labels)
        ],
    }


def conversation_representation(
    conversation: Conversation, *, labels: Sequence[Label] | None = None
) -> dict[str, Any]:
    return conversation_row_representation(conversation_row(conversation, labels=labels))


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


# A customer as lists read it: one row with these keys, plus "identities" (the
# IDENTITY_ROW_FIELDS of each, as a tuple) and "claims" (the CLAIM_ROW_FIELDS of each).
CUSTOMER_ROW_FIELDS = (
    "id",
    "name",
    "email",
    "phone",
    "language",
    "attributes",
    "created_at",
    "updated_at",
)
IDENTITY_ROW_FIELDS = ("kind", "value", "is_reachable", "username", "avatar_url")
CLAIM_ROW_FIELDS = ("kind", "value")


def customer_row_representation(row: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's public shape, from a row of CUSTOMER_ROW_FIELDS with its identities
    and claims."""
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "language": row["language"],
        "attributes": row["attributes"],
        "identities": [
            dict(zip(IDENTITY_ROW_FIELDS, identity, strict=True)) for identity in row["identities"]
        ],
        "claims": [dict(zip(CLAIM_ROW_FIELDS, claim, strict=True)) for claim in row["claims"]],
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def customer_row(customer: Customer) -> dict[str, Any]:
    """A loaded customer (its identities and claims prefetched) as a row of
    CUSTOMER_ROW_FIELDS."""
    return {
        **{field: getattr(customer, field) for field in CUSTOMER_ROW_FIELDS},
        "identities": [
            tuple(getattr(identity, field) for field in IDENTITY_ROW_FIELDS)
            for identity in customer.identities.all()
        ],
        "claims": [
            tuple(getattr(claim, field) for field in CLAIM_ROW_FIELDS)
            for claim in customer.claims.all()
        ],
    }


def customer_representation(customer: Customer) -> dict[str, Any]:
    return customer_row_representation(customer_row(customer))
