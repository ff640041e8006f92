"""Template filters for showing a message: an email's full text and original formatting,
and what it carried besides text and files and why it was not delivered, worded in the
reader's language."""

from django import template

from inbox.content_items import content_item_text
from inbox.delivery_failures import failure_text
from inbox.models import Message
from inbox.representations import html_with_inline_images

register = template.Library()


@register.filter
def original_html(message: Message) -> str:
    """The sanitised HTML part, for a sandboxed frame's srcdoc (escaped by the template)."""
    return html_with_inline_images(message) if message.body_html else ""


@register.filter
def has_quoted_text(message: Message) -> bool:
    return bool(message.body_full) and message.body_full.strip() != message.body.strip()


@register.filter
def content_item_lines(message: Message) -> list[str]:
    return [content_item_text(item) for item in message.content_items or ()]


@register.filter
def failure_reason(message: Message) -> str:
    return failure_text(message.error)
