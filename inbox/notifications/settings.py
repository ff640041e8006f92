"""Which notifications an operator wants, where: `User.notification_settings` is
`{"in_app": [kinds], "browser": [kinds], "email": [kinds], "sound": bool}`; a key not set
means every kind (email: mentions and assignments) and the sound on."""

from typing import Any

from django.utils.translation import gettext

from inbox.models import User
from inbox.notifications.models import NotificationKind

DELIVERIES = ("in_app", "browser", "email")


def notification_settings_of(user: User) -> dict[str, Any]:
    stored = user.notification_settings or {}
    defaults = {
        "in_app": list(NotificationKind.values),
        "browser": list(NotificationKind.values),
        # Fifteen minutes late, a due time is better left to the inbox.
        "email": [NotificationKind.MENTION.value, NotificationKind.ASSIGNED.value],
    }
    return {
        **{delivery: list(stored.get(delivery, defaults[delivery])) for delivery in DELIVERIES},
        "sound": bool(stored.get("sound", True)),
    }


def wants(user: User, kind: str, delivery: str = "in_app") -> bool:
    return kind in notification_settings_of(user)[delivery]


def checked_notification_settings(value: Any) -> dict[str, Any]:
    """The settings given, checked; ValueError says what is wrong."""
    if not isinstance(value, dict) or set(value) - {*DELIVERIES, "sound"}:
        raise ValueError(gettext('give "in_app", "browser", "email" and "sound"'))
    for delivery in DELIVERIES:
        kinds = value.get(delivery, [])
        if not isinstance(kinds, list) or not all(
            isinstance(kind, str) and kind in NotificationKind.values for kind in kinds
        ):
            raise ValueError(
                gettext("%(delivery)s must be a list of %(kinds)s")
                % {"delivery": delivery, "kinds": ", ".join(NotificationKind.values)}
            )
    if "sound" in value and not isinstance(value["sound"], bool):
        raise ValueError(gettext("sound must be true or false"))
    return value
