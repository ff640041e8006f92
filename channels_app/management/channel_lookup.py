"""Naming a channel on the command line: by its id or its public_id."""

import uuid

from django.core.management.base import CommandError

from channels_app.models import Channel


def channel_by_reference(reference: str) -> Channel:
    channels = Channel.objects.all()
    try:
        if reference.isdigit():
            return channels.get(pk=int(reference))
        return channels.get(public_id=uuid.UUID(reference))
    except (Channel.DoesNotExist, ValueError):
        raise CommandError(f"no channel with id or public_id {reference!r}") from None
