"""Reads on messages and their attachments: a conversation's thread, what delivery needs,
and the stored files behind media links."""

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from inbox import json_rows, row_lookups
from inbox.models import Attachment, Conversation, Message, MessageDirection, User
from inbox.representations import MESSAGE_ROW_FIELDS
from inbox.selectors.conversations import conversations_visible_to
from inbox.visibility import bounding_operator_id


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related("attachments")
    )


@cache
def _message_rows() -> QuerySet[Any]:
    # As _conversation_rows, for messages.
    return Message.objects.values(*MESSAGE_ROW_FIELDS)


def message_rows(*, conversation_id: int) -> QuerySet[Any]:
    """A conversation's messages as rows of MESSAGE_ROW_FIELDS; a page of it read,
    `message_rows_complete` adds their attachments."""
    return _message_rows().filter(conversation_id=conversation_id)


def message_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds each row's attachments: one query for any number of rows."""
    attachments: dict[int, list[Attachment]] = {}
    for attachment in row_lookups.models_where_in(
        Attachment, key="message", values=[row["id"] for row in rows], order_by="id"
    ):
        attachments.setdefault(attachment.message_id, []).append(attachment)
    for row in rows:
        row["attachments"] = attachments.get(row["id"], [])
    return rows


def message_json_rows_for_user(*, user: User, conversation_id: int) -> json_rows.JsonRows | None:
    """The conversation's messages, each written as its public JSON by PostgreSQL (see
    inbox.json_rows); None on other databases. Raises Conversation.DoesNotExist when the
    conversation is absent or not visible to the user alike."""
    if connection.vendor != "postgresql":
        return None
    rows = json_rows.message_json_rows(
        operator_id=bounding_operator_id(user), conversation_id=conversation_id
    )
    if rows is None:
        raise Conversation.DoesNotExist
    return rows


def message_for_delivery(*, message_id: int) -> Message | None:
    return (
        Message.objects.select_related("conversation", "conversation__channel", "author")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )


def sent_message_recipient_address(*, channel_id: int, external_id: str) -> str | None:
    """Where the message we sent with this platform id went (its conversation's address)."""
    return (
        Message.objects.filter(
            channel_id=channel_id, external_id=external_id, direction=MessageDirection.OUTBOUND
        )
        .values_list("conversation__recipient_address", flat=True)
        .first()
    )


def conversation_thread_external_ids(
    *, conversation_id: int, before_message_id: int, limit: int = 50
) -> tuple[str, ...]:
    """The platform ids of a conversation's messages before one, oldest first (the
    first message and the latest `limit - 1`): what an email reply names as References."""
    earlier = Message.objects.filter(
        conversation_id=conversation_id,
        id__lt=before_message_id,
        external_id__isnull=False,
        is_private=False,
    ).order_by("-id")
    latest = [ref for ref in earlier.values_list("external_id", flat=True)[: limit - 1] if ref]
    first = earlier.order_by("id").values_list("external_id", flat=True).first()
    if first and first not in latest:
        latest.append(first)
    return tuple(reversed(latest))


def attachment_for_fetch(*, attachment_id: int):
    """An attachment still to be fetched from its platform, with its channel; or None."""
    return (
        Attachment.objects.select_related("message__channel")
        .filter(pk=attachment_id, file="")
        .exclude(media_id="")
        .first()
    )


def attachment_ids_still_unfetched(*, created_after, created_before, limit: int) -> list[int]:
    """Attachments that only name their platform's file, neither fetched nor given up on,
    created in that span: their fetch task was lost (say, a retry the broker refused)."""
    return list(
        Attachment.objects.filter(
            file="", fetch_error="", created_at__gt=created_after, created_at__lt=created_before
        )
        .exclude(media_id="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def attachment_by_file_name(*, file_name: str):
    """The stored attachment behind a media path, whoever asks (for signed links)."""
    return Attachment.objects.filter(file=file_name).exclude(file="").first()


def attachment_for_user(*, user: User, file_name: str):
    """The stored attachment behind a media path, if the user may see its conversation."""
    attachment = Attachment.objects.select_related("message").filter(file=file_name).first()
    if attachment is None:
        return None
    visible = conversations_visible_to(user).filter(pk=attachment.message.conversation_id)
    return attachment if visible.exists() else None
