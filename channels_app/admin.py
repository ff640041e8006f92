from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy, ngettext

from channels_app.adapters.telegram.setup import (
    TelegramWebhookRegistrationFailed,
    telegram_webhook_register,
)
from channels_app.adapters.viber.setup import ViberWebhookFailed, viber_webhook_register
from channels_app.adapters.vk.setup import VkSetupFailed, vk_callback_server_register
from channels_app.models import Channel, MailboxState, WebhookEvent, WebhookEventStatus
from channels_app.services import webhook_events_reprocess


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "public_id", "is_active")
    list_filter = ("kind", "is_active")
    # Secrets stay encrypted and out of the admin; set them through the API.
    exclude = ("secrets_encrypted",)
    readonly_fields = ("public_id",)
    filter_horizontal = ("teams",)
    actions = ["register_telegram_webhook", "set_up_vk_callback_server", "register_viber_webhook"]

    @admin.action(description=gettext_lazy("Register Telegram webhook"))
    def register_telegram_webhook(self, request, queryset) -> None:
        self._set_up_each(
            request,
            queryset,
            set_up=telegram_webhook_register,
            failure=TelegramWebhookRegistrationFailed,
            success=lambda channel, registration: (
                gettext('%(channel)s: Telegram answered "%(answer)s" (webhook %(url)s)')
                % {"channel": channel, "answer": registration.description, "url": registration.url}
            ),
        )

    @admin.action(description=gettext_lazy("Connect VK Callback API"))
    def set_up_vk_callback_server(self, request, queryset) -> None:
        self._set_up_each(
            request,
            queryset,
            set_up=vk_callback_server_register,
            failure=VkSetupFailed,
            success=lambda channel, server: (
                gettext("%(channel)s: VK sends the community's messages to %(url)s")
                % {"channel": channel, "url": server.url}
            ),
        )

    @admin.action(description=gettext_lazy("Register Viber webhook"))
    def register_viber_webhook(self, request, queryset) -> None:
        self._set_up_each(
            request,
            queryset,
            set_up=viber_webhook_register,
            failure=ViberWebhookFailed,
            success=lambda channel, webhook: (
                gettext("%(channel)s: Viber set the webhook %(url)s")
                % {"channel": channel, "url": webhook.url}
            ),
        )

    def _set_up_each(self, request, queryset, *, set_up, failure, success) -> None:
        """Run a platform's set-up for each chosen channel and say how each went."""
        for channel in queryset:
            try:
                outcome = set_up(channel=channel)
            except failure as error:
                self.message_user(
                    request,
                    gettext("%(channel)s: %(reason)s")
                    % {"channel": channel, "reason": error.reason},
                    level=messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    success(channel, outcome),
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
