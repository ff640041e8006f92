from django.contrib import admin

from channels_app.models import Channel, WebhookEvent


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "public_id", "is_active")
    list_filter = ("kind", "is_active")
    # Secrets stay encrypted and out of the admin; set them through the API.
    exclude = ("secrets_encrypted",)
    readonly_fields = ("public_id",)
    filter_horizontal = ("teams",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "created_at", "processed_at")
    list_filter = ("status", "channel")
    readonly_fields = ("channel", "body_sha256", "content_type", "status", "error", "attempts")
    exclude = ("body",)
