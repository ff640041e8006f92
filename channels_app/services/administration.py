"""Channel administration: creating, changing and deleting channels, secrets kept apart."""

from typing import Any

from channels_app.models import Channel
from channels_app.registry import adapter_class, adapter_for
from channels_app.services.active_channels import channel_forget_cached


def channel_create(
    *, kind: str, name: str, config: dict[str, Any], csat: dict[str, Any] | None = None
) -> Channel:
    adapter = adapter_class(kind)
    public, secrets = adapter.split_config(config)
    channel = Channel(kind=kind, name=name, config=public)
    if csat:
        channel.csat = {**channel.csat, **csat}
    channel.set_secrets(secrets)
    channel.save()
    return channel


def channel_update(
    *,
    channel: Channel,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    csat: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    """Change a channel; secrets not given are kept as they were."""
    if name is not None:
        channel.name = name
    if config is not None:
        merged_public = {**channel.config, **config}
        public, secrets = adapter_for(channel).split_config(
            merged_public, existing_secrets=channel.secrets
        )
        channel.config = public
        if {key: value for key, value in secrets.items() if value} != channel.secrets:
            channel.secrets_rejected = ""  # a new token is tried afresh
        channel.set_secrets(secrets)
    if csat is not None:
        channel.csat = {**channel.csat, **csat}
    if is_active is not None:
        channel.is_active = is_active
    channel.save()
    channel_forget_cached(channel)
    return channel


def channel_note_secrets_rejected(*, channel: Channel, reason: str) -> None:
    """The platform refused the channel's token: its admins see why (`secrets_error`)."""
    if channel.secrets_rejected != reason:
        Channel.objects.filter(pk=channel.pk).update(secrets_rejected=reason)
        channel.secrets_rejected = reason


def channel_note_secrets_accepted(*, channel: Channel) -> None:
    """A send went through: a token refused earlier works again (restored on the platform)."""
    if channel.secrets_rejected:
        Channel.objects.filter(pk=channel.pk).update(secrets_rejected="")
        channel.secrets_rejected = ""


def channel_delete(*, channel: Channel) -> None:
    """Delete a channel; one with conversations keeps them and is deactivated instead."""
    if channel.conversations.exists():
        channel_update(channel=channel, is_active=False)
        return
    channel_forget_cached(channel)
    channel.delete()
