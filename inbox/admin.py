from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from inbox.models import Attachment, CannedResponse, Conversation, Message, Team, User


@admin.register(User)
class OperatorAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Switchboard", {"fields": ("role",)}))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "auto_assign", "auto_assign_limit")
    filter_horizontal = ("members",)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("direction", "body", "is_private", "status", "error", "created_at")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "channel", "status", "assignee", "team", "last_message_at")
    list_filter = ("status", "channel")
    list_select_related = ("customer", "channel", "assignee", "team")
    raw_id_fields = ("customer",)
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "direction", "status", "created_at")
    list_filter = ("direction", "status")
    raw_id_fields = ("conversation",)


admin.site.register(Attachment)
admin.site.register(CannedResponse)
