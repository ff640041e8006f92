"""The audit log's rows: who did what, when and from where. Append-only: the model refuses
updates and deletes, and in PostgreSQL a trigger refuses them too (migration 0018)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    OPERATOR_CREATED = "operator_created", _("Operator created")
    OPERATOR_CHANGED = "operator_changed", _("Operator's role or teams changed")
    TEAM_CREATED = "team_created", _("Team created")
    TEAM_CHANGED = "team_changed", _("Team changed")
    TEAM_DELETED = "team_deleted", _("Team deleted")
    CHANNEL_CREATED = "channel_created", _("Channel created")
    CHANNEL_CHANGED = "channel_changed", _("Channel settings changed")
    CHANNEL_DELETED = "channel_deleted", _("Channel deleted")
    CUSTOMER_MERGED = "customer_merged", _("Customers merged")
    CUSTOMER_MERGE_UNDONE = "customer_merge_undone", _("Merge undone")
    CUSTOMER_EXPORTED = "customer_exported", _("Customer's data exported")
    CUSTOMER_ERASED = "customer_erased", _("Customer's personal data erased")
    RETENTION_ERASED = "retention_erased", _("Old conversations erased (retention)")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-step sign-in turned on")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-step sign-in turned off")
    TWO_FACTOR_RESET = "two_factor_reset", _("Two-step sign-in reset by an admin")
    TWO_FACTOR_CODE_FAILED = "two_factor_code_failed", _("Wrong two-step sign-in code")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed", _("New recovery codes made")
    API_TOKEN_FAILED = "api_token_failed", _("API token refused")


class AuditRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly

    def delete(self):
        raise AuditLogIsAppendOnly


class AuditLogIsAppendOnly(Exception):
    def __init__(self) -> None:
        super().__init__("audit records are never changed nor deleted")


class AuditRecord(models.Model):
    action = models.CharField(max_length=32, choices=AuditAction.choices, verbose_name=_("action"))
    # No foreign-key constraint and nothing done on the user's deletion: a row is never
    # updated, and the username below keeps saying who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(
        max_length=150, blank=True, verbose_name=_("actor's username")
    )
    client_address = models.CharField(max_length=64, blank=True, verbose_name=_("client address"))
    # What the action was done to: "operator", "team", "channel", "customer", "merge".
    target_type = models.CharField(max_length=32, blank=True, verbose_name=_("target type"))
    target_id = models.CharField(max_length=64, blank=True, verbose_name=_("target ID"))
    # Names of what changed and ids, never values that may be secret or personal.
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        app_label = "inbox"
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_recent"),
            models.Index(fields=["actor", "-id"], name="audit_actor_recent"),
        ]

    def __str__(self) -> str:
        return gettext("%(action)s by %(actor)s at %(time)s") % {
            "action": self.get_action_display(),
            "actor": self.actor_username or "-",
            "time": self.created_at,
        }

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly
