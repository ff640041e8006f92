"""The installation's follow-up settings: one row, its defaults until an admin saves it
(follow-ups on, the conversation reopened and given to its team's supervisor)."""

from typing import Any

from django.db import transaction

from inbox.follow_ups.models import SETTINGS_ROW, FollowUpSettings


def follow_up_settings_get() -> FollowUpSettings:
    return FollowUpSettings.objects.select_related("team").filter(
        pk=SETTINGS_ROW
    ).first() or FollowUpSettings(pk=SETTINGS_ROW)


def follow_up_settings_update(*, changes: dict[str, Any]) -> FollowUpSettings:
    """Apply the given settings, leaving the others as they are."""
    with transaction.atomic():
        FollowUpSettings.objects.get_or_create(pk=SETTINGS_ROW)
        row = FollowUpSettings.objects.select_for_update().get(pk=SETTINGS_ROW)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return follow_up_settings_get()
