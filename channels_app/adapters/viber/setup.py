"""Setting a Viber channel up: its settings checked, and the bot's webhook pointed at the
channel (management command viber_set_webhook)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

from channels_app.adapters.viber.inbound import HANDLED_EVENTS
from channels_app.adapters.viber.viber_api import KIND, ViberApi
from channels_app.contracts import DeliveryFailed
from inbox.delivery_failures import failure_in_english

if TYPE_CHECKING:
    from channels_app.models import Channel

MAX_SENDER_AVATAR_LENGTH = 2048


def config_errors(public: dict[str, Any]) -> dict[str, str]:
    errors = {}
    name = public.get("sender_name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name.strip()) <= 28):
        errors["sender_name"] = "must be 1-28 characters (Viber's limit for a sender's name)"
    welcome = public.get("welcome_message")
    if welcome is not None and not _is_text_per_language(welcome):
        errors["welcome_message"] = (
            'a text of up to 7000 characters, or one per language ({"en": "...", "ru": "..."})'
        )
    url = public.get("api_base_url")
    if url is not None and not _is_web_address(url):
        errors["api_base_url"] = "must be an http(s) URL"
    avatar = public.get("sender_avatar")
    if avatar not in (None, "") and not (
        _is_web_address(avatar) and len(avatar) <= MAX_SENDER_AVATAR_LENGTH
    ):
        errors["sender_avatar"] = (
            f"must be the http(s) address of a picture, up to {MAX_SENDER_AVATAR_LENGTH} characters"
        )
    return errors


def _is_web_address(value: Any) -> bool:
    return (
        isinstance(value, str)
        and urlsplit(value).scheme in ("http", "https")
        and bool(urlsplit(value).netloc)
    )


def _is_text_per_language(value: Any) -> bool:
    texts = value.values() if isinstance(value, dict) else [value]
    return all(isinstance(text, str) and len(text) <= 7000 for text in texts)


class ViberWebhookFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ViberWebhook:
    url: str
    event_types: tuple[str, ...]


def viber_webhook_register(*, channel: "Channel") -> ViberWebhook:
    """/pa/set_webhook for the channel's bot: PUBLIC_BASE_URL + the channel's webhook path,
    with the event types the adapter handles and the customer's name and photo. Viber
    checks the address with a `webhook` callback before it answers."""
    if channel.kind != KIND:
        raise ViberWebhookFailed(
            f"channel {channel.pk} is a {channel.kind} channel, not a Viber one"
        )
    url = f"{settings.PUBLIC_BASE_URL}{channel.webhook_path}"
    try:
        answer = ViberApi(channel).call(
            "set_webhook",
            {
                "url": url,
                "event_types": list(HANDLED_EVENTS),
                "send_name": True,
                "send_photo": True,
            },
        )
    except DeliveryFailed as failure:
        raise ViberWebhookFailed(failure_in_english(failure.failure)) from failure
    event_types = answer.get("event_types")
    if not isinstance(event_types, list):
        event_types = list(HANDLED_EVENTS)
    return ViberWebhook(url=url, event_types=tuple(str(item) for item in event_types))
