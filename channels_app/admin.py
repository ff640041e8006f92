import dataclasses

from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext

from channels_app.adapters.telegram.setup import (
    TelegramWebhookRegistrationFailed,
    telegram_webhook_register,
)
from channels_app.adapters.viber.setup import ViberWebhookFailed, viber_webhook_register
from channels_app.adapters.vk.setup import VkSetupFailed, vk_callback_server_register
from channels_app.admin_settings import (
    ChannelSettingsForm,
    InstagramChannelSettingsForm,
    MessengerChannelSettingsForm,
    ViberChannelSettingsForm,
    VkChannelSettingsForm,
    settings_fieldsets,
)
from channels_app.admin_whatsapp_settings import WhatsAppChannelSettingsForm
from channels_app.models import Channel, MailboxState, WebhookEvent, WebhookEventStatus
from channels_app.services import (
    channel_audit_state,
    channel_changes_record,
    channel_create,
    channel_forget_cached,
    channel_update,
    webhook_events_reprocess,
)
from inbox.audit.models import AuditAction
from inbox.audit.records import audit_actor, audit_record

# What an admin reads when a platform's set-up went through, filled in from its outcome.
SET_UP_SUCCESS_TEXTS = {
    "register_telegram_webhook": gettext_noop(
        '%(channel)s: Telegram answered "%(description)s" (webhook %(url)s)'
    ),
    "set_up_vk_callback_server": gettext_noop(
        "%(channel)s: VK sends the community's messages to %(url)s"
    ),
    "register_viber_webhook": gettext_noop("%(channel)s: Viber set the webhook %(url)s"),
}
SET_UP_FAILURES = (TelegramWebhookRegistrationFailed, VkSetupFailed, ViberWebhookFailed)


def _set_up_action(name: str, description, set_up):
    """An admin action that runs a platform's set-up for each chosen channel and says how
    each went."""

    def action(modeladmin, request, queryset) -> None:
        for channel in queryset:
            try:
                outcome = set_up(channel=channel)
            except SET_UP_FAILURES as error:
                text = gettext("%(channel)s: %(reason)s") % {
                    "channel": channel,
                    "reason": error.reason,
                }
                modeladmin.message_user(request, text, level=messages.ERROR)
            else:
                text = gettext(SET_UP_SUCCESS_TEXTS[name]) % {
                    "channel": channel,
                    **dataclasses.asdict(outcome),
                }
                modeladmin.message_user(request, text, level=messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description)(action)


register_telegram_webhook = _set_up_action(
    "register_telegram_webhook",
    gettext_lazy("Register Telegram webhook"),
    telegram_webhook_register,
)
set_up_vk_callback_server = _set_up_action(
    "set_up_vk_callback_server",
    gettext_lazy("Connect VK Callback API"),
    vk_callback_server_register,
)
register_viber_webhook = _set_up_action(
    "register_viber_webhook", gettext_lazy("Register Viber webhook"), viber_webhook_register
)


# The kinds edited with a form of their own rather than raw JSON.
KIND_SETTINGS_FORMS: dict[str, type[ChannelSettingsForm]] = {
    form.kind_value: form
    for form in (
        VkChannelSettingsForm,
        ViberChannelSettingsForm,
        MessengerChannelSettingsForm,
        InstagramChannelSettingsForm,
        WhatsAppChannelSettingsForm,
    )
}


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "public_id", "is_active", "secrets_status")
    list_filter = ("kind", "is_active")
    # Secrets stay encrypted and out of the admin: set through the API, or write-only in the
    # settings forms of the kinds that have one (admin_settings).
    exclude = ("secrets_encrypted",)
    readonly_fields = ("public_id", "secrets_status")
    filter_horizontal = ("teams",)
    actions = [register_telegram_webhook, set_up_vk_callback_server, register_viber_webhook]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The state before the admin's change, for the audit log (see save_related).
        request._channel_audit_before = channel_audit_state(obj) if obj is not None else None
        if settings_form := KIND_SETTINGS_FORMS.get(_kind_edited(request, obj) or ""):
            kwargs["form"] = settings_form
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if settings_form := KIND_SETTINGS_FORMS.get(_kind_edited(request, obj) or ""):
            return settings_fieldsets(settings_form, adding=obj is None)
        return super().get_fieldsets(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not isinstance(form, ChannelSettingsForm):
            super().save_model(request, obj, form, change)
            channel_forget_cached(obj)
        elif change:
            # The settings as the form has them, checked as a PATCH would check them.
            obj.config = {}
            channel_update(channel=obj, config=form.new_config)
        else:
            channel_create(
                kind=obj.kind,
                name=obj.name,
                config=form.new_config,
                actor=audit_actor(request),
                unsaved=obj,
            )

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_channel_audit_before", None)
        channel = form.instance
        if change and before is not None:
            channel_changes_record(channel=channel, before=before, actor=audit_actor(request))
        elif not change and not isinstance(form, ChannelSettingsForm):
            # (a channel added with its settings form is recorded by channel_create)
            audit_record(
                action=AuditAction.CHANNEL_CREATED,
                actor=audit_actor(request),
                target_type="channel",
                target_id=channel.pk,
                details={"kind": channel.kind, "name": channel.name, "via": "admin"},
            )

    @admin.display(description=gettext_lazy("Secrets"))
    def secrets_status(self, channel: Channel) -> str:
        return channel.secrets_error or gettext("readable")


def _kind_edited(request, channel: Channel | None) -> str | None:
    """The kind of the channel being changed, or the one a new channel is added as
    (`?kind=messenger` on the add page; else the general form's own field)."""
    if channel is not None:
        return channel.kind
    return request.GET.get("kind") or request.POST.get("kind")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "created_at", "processed_at")
    list_filter = ("status", "channel")
    readonly_fields = ("channel", "body_sha256", "content_type", "status", "error", "attempts")
    exclude = ("body",)
    actions = ["process_again"]

    @admin.action(description=gettext_lazy("Process again now (failed deliveries)"))
    def process_again(self, request, queryset) -> None:
        failed = queryset.filter(status=WebhookEventStatus.FAILED).select_related("channel")
        count = failed.count()
        processed = webhook_events_reprocess(events=failed.order_by("id"))
        level = messages.SUCCESS if processed == count else messages.WARNING
        text = ngettext(
            "%(processed)d of %(count)d failed delivery went through.",
            "%(processed)d of %(count)d failed deliveries went through.",
            count,
        ) % {"processed": processed, "count": count}
        self.message_user(request, text, level)


@admin.register(MailboxState)
class MailboxStateAdmin(admin.ModelAdmin):
    """How far each IMAP mailbox has been read, and what went wrong there lately
    (unreachable server, refused login, messages skipped and left on the server)."""

    list_display = ("channel", "folder", "last_uid", "last_polled_at", "consecutive_failures")
    list_filter = ("channel",)
    readonly_fields = (
        "channel",
        "folder",
        "uid_validity",
        "last_uid",
        "last_polled_at",
        "consecutive_failures",
        "last_error",
    )
