from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from inbox.login_throttle import login_lockout_lift
from inbox.models import (
    Attachment,
    CannedResponse,
    Conversation,
    LoginLockout,
    Message,
    Team,
    User,
)


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


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Usernames and addresses locked out after too many failed sign-ins."""

    list_display = ("scope", "value", "via", "created_at", "locked_until")
    list_filter = ("scope", "via")
    search_fields = ("value",)
    readonly_fields = ("scope", "value", "via", "created_at", "locked_until")
    actions = ["lift"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Lift the lockout now"))
    def lift(self, request, queryset) -> None:
        for lockout in queryset:
            login_lockout_lift(lockout=lockout)
