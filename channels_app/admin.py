from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy, ngettext

from channels_app.adapters.telegram.setup import (
    TelegramWebhookRegistrationFailed,
    telegram_webhook_register,
)
from channels_app.models import Channel, MailboxState, WebhookEvent, WebhookEventStatus
from channels_app.services import webhook_events_reprocess


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "public_id", "is_active", "secrets_status")
    list_filter = ("kind", "is_active")
    # Secrets stay encrypted and out of the admin; set them through the API.
    exclude = ("secrets_encrypted",)
    readonly_fields = ("public_id", "secrets_status")
    filter_horizontal = ("teams",)
    actions = ["register_telegram_webhook"]

    @admin.display(description=gettext_lazy("Secrets"))
    def secrets_status(self, channel: Channel) -> str:
        return channel.secrets_error or gettext("readable")

    @admin.action(description=gettext_lazy("Register Telegram webhook"))
    def register_telegram_webhook(self, request, queryset) -> None:
        for channel in queryset:
            try:
                registration = telegram_webhook_register(channel=channel)
            except TelegramWebhookRegistrationFailed as error:
                self.message_user(
                    request,
                    gettext("%(channel)s: %(reason)s")
                    % {"channel": channel, "reason": error.reason},
                    level=messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    gettext('%(channel)s: Telegram answered "%(answer)s" (webhook %(url)s)')
                    % {
                        "channel": channel,
                        "answer": registration.description,
                        "url": registration.url,
                    },
                    level=messages.SUCCESS,
                )


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
