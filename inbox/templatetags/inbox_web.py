"""Small formatting helpers for the operator web inbox; inbox/static/inbox/js/format.js
and render.js do the same in the browser, so keep the two in step."""

from datetime import datetime

from django import template
from django.utils.translation import gettext_lazy

from inbox.event_wording import conversation_event_text

register = template.Library()

AVATAR_TONES = 8
DELIVERY = {
    "queued": ("⏱", gettext_lazy("Queued")),
    "sending": ("⏱", gettext_lazy("Sending")),
    "sent": ("✓", gettext_lazy("Sent")),
    "delivered": ("✓✓", gettext_lazy("Delivered")),
    "read": ("✓✓", gettext_lazy("Read")),
    "failed": ("⚠", gettext_lazy("Failed")),
    "unknown": ("?", gettext_lazy("Delivery unknown")),
}


@register.filter
def initials(name: object) -> str:
    words = [word for word in str(name or "").split() if word[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


@register.filter
def tone(identifier: object) -> int:
    try:
        return int(str(identifier)) % AVATAR_TONES
    except ValueError:
        return 0


@register.filter
def avatar_url(customer) -> str:
    """The picture a platform shows for the customer (their first identity that has one),
    from the prefetched identities; "" when none has."""
    return next(
        (identity.avatar_url for identity in customer.identities.all() if identity.avatar_url),
        "",
    )


@register.filter
def iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


@register.filter
def safe_link(url: object) -> str:
    """The URL if a browser may follow it from our page (http, https or our own path)."""
    text = str(url or "")
    if text.lower().startswith(("http://", "https://")) or (
        text.startswith("/") and not text.startswith("//")
    ):
        return text
    return ""


@register.filter
def delivery_glyph(status: str) -> str:
    return DELIVERY.get(status, ("", ""))[0]


@register.filter
def delivery_label(status: str) -> str:
    return str(DELIVERY.get(status, ("", status))[1])


@register.filter
def file_size(size: int | None) -> str:
    value = float(size or 0)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


@register.filter
def is_image(content_type: str) -> bool:
    return str(content_type).startswith("image/")


@register.filter
def event_text(event) -> str:
    return conversation_event_text(event)
