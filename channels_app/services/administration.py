"""Channel administration: creating, changing and deleting channels, secrets kept apart."""

from typing import Any

from django.db import transaction

from channels_app.models import Channel
from channels_app.registry import adapter_class, adapter_for
from channels_app.services.active_channels import channel_forget_cached
from inbox.audit.models import AuditAction
from inbox.audit.records import SYSTEM, AuditActor, audit_record, changed_keys, ids


@transaction.atomic
def channel_create(
    *,
    kind: str,
    name: str,
    config: dict[str, Any],
    csat: dict[str, Any] | None = None,
    actor: AuditActor = SYSTEM,
    unsaved: Channel | None = None,
) -> Channel:
    """Create a channel; `unsaved` is one with its other columns already set (the admin's
    add page), saved as this channel."""
    adapter = adapter_class(kind)
    public, secrets = adapter.split_config(config)
    channel = unsaved or Channel()
    channel.kind, channel.name, channel.config = kind, name, public
    if csat:
        channel.csat = {**channel.csat, **csat}
    channel.set_secrets(secrets)
    channel.save()
    audit_record(
        action=AuditAction.CHANNEL_CREATED,
        actor=actor,
        target_type="channel",
        target_id=channel.pk,
        details={"kind": kind, "name": name, "config_keys": sorted({*public, *secrets})},
    )
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


@transaction.atomic
def channel_delete(*, channel: Channel, actor: AuditActor = SYSTEM) -> None:
    """Delete a channel; one with conversations keeps them and is deactivated instead."""
    if channel.conversations.exists():
        before = channel_audit_state(channel)
        channel_update(channel=channel, is_active=False)
        channel_changes_record(channel=channel, before=before, actor=actor)
        return
    channel_forget_cached(channel)
    channel_id = channel.pk
    channel.delete()
    audit_record(
        action=AuditAction.CHANNEL_DELETED,
        actor=actor,
        target_type="channel",
        target_id=channel_id,
        details={"kind": channel.kind, "name": channel.name},
    )


def channel_audit_state(channel: Channel) -> dict[str, Any]:
    """What a change of a channel is compared on; held in memory only (it has secrets)."""
    return {
        "name": channel.name,
        "is_active": channel.is_active,
        "reopen_window_seconds": channel.reopen_window_seconds,
        "teams": ids(channel.teams.all()),
        "config": dict(channel.config),
        "secrets": channel.secrets,
        "csat": dict(channel.csat),
    }


def channel_changes_record(*, channel: Channel, before: dict[str, Any], actor: AuditActor) -> None:
    """Record which settings of a channel changed since `before`: the names of its
    config keys (secret ones too), never their values."""
    after = channel_audit_state(channel)
    config_keys = sorted(
        {
            *changed_keys(before["config"], after["config"]),
            *changed_keys(before["secrets"], after["secrets"]),
        }
    )
    csat_keys = changed_keys(before["csat"], after["csat"])
    fields = [
        field
        for field in ("name", "is_active", "reopen_window_seconds", "teams")
        if before[field] != after[field]
    ]
    if not (config_keys or csat_keys or fields):
        return
    audit_record(
        action=AuditAction.CHANNEL_CHANGED,
        actor=actor,
        target_type="channel",
        target_id=channel.pk,
        details={
            "kind": channel.kind,
            "name": channel.name,
            "fields": fields,
            "config_keys": config_keys,
            "csat_keys": csat_keys,
        },
    )
