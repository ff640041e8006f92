from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.audit.models import AuditAction, AuditRecord
from inbox.audit.records import audit_actor, audit_record, ids
from inbox.follow_ups.models import FollowUpSettings, SurveyFollowUp
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
from inbox.two_factor.services import two_factor_reset

# What of an operator goes on the audit log when an admin changes it here.
AUDITED_OPERATOR_FIELDS = ("role", "is_active", "is_staff", "is_superuser")

# Authenticator apps are set up by their owners and reset through the operators' page
# (audited); django-otp's own device pages would show and change their secrets unrecorded.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(User)
class OperatorAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "has_two_factor")
    list_filter = ("role", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Switchboard", {"fields": ("role",)}))
    actions = ["reset_two_factor"]

    def get_queryset(self, request):
        confirmed_devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(confirmed_devices))

    @admin.display(boolean=True, description=_("Two-step sign-in"), ordering="has_two_factor")
    def has_two_factor(self, obj) -> bool:
        return obj.has_two_factor

    @admin.action(description=_("Reset two-step sign-in (lost phone)"))
    def reset_two_factor(self, request, queryset) -> None:
        actor = audit_actor(request)
        reset = sum(two_factor_reset(operator=user, actor=actor) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "Two-step sign-in reset for %(count)d operator.",
                "Two-step sign-in reset for %(count)d operators.",
                reset,
            )
            % {"count": reset},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change) -> None:
        before = User.objects.filter(pk=obj.pk).values(*AUDITED_OPERATOR_FIELDS).first()
        super().save_model(request, obj, form, change)
        if before is None:
            audit_record(
                action=AuditAction.OPERATOR_CREATED,
                actor=audit_actor(request),
                target_type="operator",
                target_id=obj.pk,
                details={"username": obj.username, "role": obj.role, "via": "admin"},
            )
            return
        changes = {
            field: {"from": before[field], "to": getattr(obj, field)}
            for field in AUDITED_OPERATOR_FIELDS
            if before[field] != getattr(obj, field)
        }
        if changes:
            audit_record(
                action=AuditAction.OPERATOR_CHANGED,
                actor=audit_actor(request),
                target_type="operator",
                target_id=obj.pk,
                details={"username": obj.username, **changes, "via": "admin"},
            )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "auto_assign", "auto_assign_limit")
    filter_horizontal = ("members",)

    def save_related(self, request, form, formsets, change) -> None:
        team = form.instance
        members_before = set(ids(team.members.all())) if change else set()
        super().save_related(request, form, formsets, change)
        members_after = set(ids(team.members.all()))
        if change and members_before == members_after and not form.changed_data:
            return
        audit_record(
            action=AuditAction.TEAM_CHANGED if change else AuditAction.TEAM_CREATED,
            actor=audit_actor(request),
            target_type="team",
            target_id=team.pk,
            details={
                "name": team.name,
                "changed": sorted(form.changed_data),
                "members": {
                    "added": sorted(members_after - members_before),
                    "removed": sorted(members_before - members_after),
                },
                "via": "admin",
            },
        )

    def delete_model(self, request, obj) -> None:
        team_id, name = obj.pk, obj.name
        super().delete_model(request, obj)
        audit_record(
            action=AuditAction.TEAM_DELETED,
            actor=audit_actor(request),
            target_type="team",
            target_id=team_id,
            details={"name": name, "via": "admin"},
        )


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


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """The audit log, read-only: records are never changed nor deleted."""

    list_display = (
        "created_at",
        "action",
        "actor_username",
        "client_address",
        "target_type",
        "target_id",
    )
    list_filter = ("action", ("created_at", admin.DateFieldListFilter), "target_type")
    search_fields = ("actor_username", "client_address", "target_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "action",
        "actor",
        "actor_username",
        "client_address",
        "target_type",
        "target_id",
        "details",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowUpSettings)
class FollowUpSettingsAdmin(admin.ModelAdmin):
    list_display = ("enabled", "action", "assign_to", "team", "updated_at")


@admin.register(SurveyFollowUp)
class SurveyFollowUpAdmin(admin.ModelAdmin):
    list_display = ("survey", "action", "status", "assignee", "team", "resolved_by", "resolved_at")
    list_filter = ("status", "action")
    list_select_related = ("survey", "assignee", "team", "resolved_by")
    raw_id_fields = ("survey", "conversation", "assignee", "resolved_by")
