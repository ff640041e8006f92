from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from inbox.rule_events import Trigger


class AutomationRule(models.Model):
    """When `trigger` happens and every condition holds, do the actions, in order.
    Conditions and actions are JSON (automation.conditions, automation.actions say their
    shape); rules run by position, lowest first."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    trigger = models.CharField(max_length=32, choices=Trigger.choices, verbose_name=_("trigger"))
    # For the triggers fired by the clock: how long the wait lasts.
    wait_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("wait in minutes")
    )
    conditions = models.JSONField(default=dict, blank=True, verbose_name=_("conditions"))
    actions = models.JSONField(default=list, verbose_name=_("actions"))
    is_active = models.BooleanField(default=False, verbose_name=_("active"))
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))
    # The clock's sweep has looked at waits that ended up to this time.
    swept_until = models.DateTimeField(null=True, blank=True, verbose_name=_("swept until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")

    def __str__(self) -> str:
        return self.name


class AutomationRun(models.Model):
    """A rule that matched an event: what it did, action by action, and what failed.
    Unique per rule and event, so a task run twice does nothing twice."""

    rule = models.ForeignKey(
        AutomationRule, on_delete=models.CASCADE, related_name="runs", verbose_name=_("rule")
    )
    event_key = models.CharField(max_length=100, verbose_name=_("event"))
    trigger = models.CharField(max_length=32, choices=Trigger.choices, verbose_name=_("trigger"))
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("conversation"),
    )
    outcomes = models.JSONField(default=list, verbose_name=_("what it did"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("automation run")
        verbose_name_plural = _("automation runs")
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_key"], name="automation_run_once")
        ]
        indexes = [models.Index(fields=["rule", "-created_at"], name="automation_run_recent")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.event_key}"


class Macro(models.Model):
    """A named list of the rules' actions (automation.actions says their shape) an operator
    applies to a conversation at once. A personal macro is its owner's alone; a shared one
    is offered to everyone and changed by supervisors and admins only."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    actions = models.JSONField(default=list, verbose_name=_("actions"))
    is_shared = models.BooleanField(default=False, verbose_name=_("shared"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name
