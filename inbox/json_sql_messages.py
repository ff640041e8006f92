"""The message's public shape written by PostgreSQL (see inbox.json_sql): its attachments'
links, which are signed, its HTML's inline images, its content items and failure reason,
worded in the reader's language, added by Python."""

import json
from functools import cache

from django.db import connection

from customers.plain_sql import quoted_column, quoted_table
from inbox.content_items import content_items_representation
from inbox.delivery_failures import failure_code, failure_text
from inbox.json_sql import Shape, id_position, operator_json, own_columns
from inbox.json_sql_writing import json_members, json_string, json_text, json_time
from inbox.models import Attachment, Message
from inbox.representations import (
    MESSAGE_ROW_FIELDS,
    attachment_representation,
    body_html_with_inline_images,
)

# What a message's attachments show, or turn its HTML's inline images into.
_ATTACHMENT_FIELDS = ("id", "file", "remote_url", "content_id", "filename", "content_type", "size")


@cache
def _message_select() -> str:
    m = {name: f"m.{quoted_column(Message, name)}" for name in own_columns(MESSAGE_ROW_FIELDS)}
    attachment = {name: f"a.{quoted_column(Attachment, name)}" for name in _ATTACHMENT_FIELDS}
    before = json_members(
        [
            ("id", m["id"]),
            ("conversation_id", m["conversation_id"]),
            ("direction", json_string(m["direction"])),
            ("body", json_string(m["body"])),
            ("body_full", json_string(m["body_full"])),
            ("body_html", ""),
        ],
        opens=True,
    )
    status = json_members(
        [
            ("private", f"to_json({m['is_private']})::text"),
            ("status", json_string(m["status"])),
            ("error", ""),
        ]
    )
    between = json_members(
        [
            ("external_id", json_string(m["external_id"])),
            ("author", operator_json(m["author_id"])),
            ("sent_from", json_string(m["sent_from"])),
            ("attachments", ""),
        ]
    )
    after = json_members(
        [
            ("created_at", json_time(m["created_at"])),
            ("sent_at", json_time(m["sent_at"])),
            ("edited_at", json_time(m["edited_at"])),
            ("reaction", json_string(m["reaction"])),
            ("deleted_at", json_time(m["deleted_at"])),
        ]
    )
    after = f"{after} || '}}'"
    attachments = (
        f"(SELECT json_agg(json_build_array({', '.join(attachment.values())}) "
        f"ORDER BY {attachment['id']}) FROM {quoted_table(Attachment)} a "
        f"WHERE a.{quoted_column(Attachment, 'message')} = {m['id']})"
    )
    body_html = json_string(f"COALESCE({m['body_html']}, '')")
    # The HTML as JSON, and as it is for messages whose attachments it may show inline;
    # the content items and the failure reason as stored, worded by Python in the
    # reader's language.
    return (
        f"SELECT {m['id']}, {m['id']}, {before}, {body_html}, {status}, {between}, {after}, "
        f"{attachments}, {m['body_html']}, {m['content_items']}::text, {m['error']}::text "
        f"FROM {quoted_table(Message)} m"
    )


_CONTENT_ITEMS_MEMBER = ',"content_items":'
_ERROR_CODE_MEMBER = ',"error_code":'
_NO_ERROR = f'""{_ERROR_CODE_MEMBER}""'


def _error_members(raw_error: str | None) -> str:
    """The failure reason worded in the reader's language, and its code."""
    if not raw_error or raw_error == "{}":
        return _NO_ERROR
    stored = json.loads(raw_error)
    return f"{json_text(failure_text(stored))}{_ERROR_CODE_MEMBER}{json_text(failure_code(stored))}"


def _message_text(row: tuple) -> str:
    (
        before,
        body_html,
        status,
        between,
        after,
        attachments_values,
        raw_body_html,
        raw_items,
        raw_error,
    ) = row[2:]
    if isinstance(attachments_values, str):
        attachments_values = json.loads(attachments_values)
    attachments = [
        Attachment.from_db(connection.alias, _ATTACHMENT_FIELDS, values)
        for values in attachments_values or ()
    ]
    if raw_body_html and "cid:" in raw_body_html.lower():
        body_html = json_text(body_html_with_inline_images(raw_body_html, attachments))
    listed = json_text([attachment_representation(attachment) for attachment in attachments])
    items = json_text(content_items_representation(json.loads(raw_items) if raw_items else []))
    error = _error_members(raw_error)
    return (
        f"{before}{body_html}{status}{error}{between}{listed}{_CONTENT_ITEMS_MEMBER}{items}{after}"
    )


MESSAGES = Shape(
    select=_message_select,
    alias="m",
    position_field="id",
    position=id_position,
    json=_message_text,
)
