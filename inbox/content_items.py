"""What a message carried besides its text and files (`Message.content_items`: a reaction,
a sticker, a story mention, a kind of message the platform would not show us), worded in
the active language: the reader's, as each page, API answer and operator socket
activates it. The stored items are data (`{"kind", "data"}`), never words, so an
operator reading Russian sees Russian whatever language the installation or the
platform speaks.

Every line is one whole sentence of the catalogue; an unknown kind (from a newer
version) is shown by its name rather than dropped.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext

from channels_app.contracts import ContentItem, ContentItemKind


def _reaction(data: Mapping[str, str]) -> str:
    return gettext("Reacted %(emoji)s") % {"emoji": data.get("emoji", "")}


def _reaction_removed(data: Mapping[str, str]) -> str:
    return gettext("Removed a reaction")


def _sticker(data: Mapping[str, str]) -> str:
    return gettext("Sent a sticker")


def _story_mention(data: Mapping[str, str]) -> str:
    return gettext("Mentioned you in their story (the link expires with the story): %(url)s") % {
        "url": data.get("url", "")
    }


def _story_reply(data: Mapping[str, str]) -> str:
    return gettext("Replied to your story (the link expires with the story): %(url)s") % {
        "url": data.get("url", "")
    }


def _shared_post(data: Mapping[str, str]) -> str:
    post = " ".join(part for part in (data.get("title", ""), data.get("url", "")) if part)
    return gettext("Shared a post: %(post)s") % {"post": post} if post else gettext("Shared a post")


def _platform_notice(data: Mapping[str, str]) -> str:
    return gettext("A notice from the platform")


def _unsupported(data: Mapping[str, str]) -> str:
    kind = data.get("type", "")
    if kind:
        return gettext("A message of a kind that cannot be shown here (%(type)s)") % {"type": kind}
    return gettext("A message of a kind that cannot be shown here")


WORDINGS: dict[str, Callable[[Mapping[str, str]], str]] = {
    ContentItemKind.REACTION: _reaction,
    ContentItemKind.REACTION_REMOVED: _reaction_removed,
    ContentItemKind.STICKER: _sticker,
    ContentItemKind.STORY_MENTION: _story_mention,
    ContentItemKind.STORY_REPLY: _story_reply,
    ContentItemKind.SHARED_POST: _shared_post,
    ContentItemKind.PLATFORM_NOTICE: _platform_notice,
    ContentItemKind.UNSUPPORTED: _unsupported,
}


def content_items_stored(items: Sequence[ContentItem]) -> list[dict[str, Any]]:
    """Items as `Message.content_items` keeps them."""
    return [{"kind": item.kind, "data": dict(item.data)} for item in items]


def _parts(item: Any) -> tuple[str, dict[str, str]]:
    if not isinstance(item, Mapping):
        return "", {}
    data = item.get("data")
    kind = item.get("kind")
    return (
        kind if isinstance(kind, str) else "",
        {str(key): str(value) for key, value in data.items()} if isinstance(data, Mapping) else {},
    )


def content_item_text(item: Any) -> str:
    """One stored item as a line of text in the active language."""
    kind, data = _parts(item)
    wording = WORDINGS.get(kind)
    return wording(data) if wording is not None else f"[{kind}]"


def content_items_representation(items: Any) -> list[dict[str, Any]]:
    """The items as the API and live events give them: `{"kind", "data", "text"}`, the
    text worded in the active language."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    represented = []
    for item in items:
        kind, data = _parts(item)
        represented.append({"kind": kind, "data": data, "text": content_item_text(item)})
    return represented


def message_text(body: str, items: Any) -> str:
    """The message as one text for a reader: its body, then a line per item."""
    lines = [body] if body else []
    lines += [item["text"] for item in content_items_representation(items)]
    return "\n".join(lines)
