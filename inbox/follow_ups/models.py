"""The follow-up settings (one row, edited by admins) and one follow-up per poor answer."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

SETTINGS_ROW = 1


class FollowUpAction(models.TextChoices):
    REOPEN = "reopen", _("Reopen the conversation")
    NEW_CONVERSATION = "new_conversation", _("Open a new internal conversation")


class FollowUpAssignment(models.TextChoices):
    TEAM_SUPERVISOR = "team_supervisor", _("The team's supervisor")
    TEAM = "team", _("A chosen team")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class FollowUpSettings(models.Model):
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    action = models.CharField(
        max_length=32,
        choices=FollowUpAction.choices,
        default=FollowUpAction.REOPEN,
        verbose_name=_("action"),
    )
    assign_to = models.CharField(
        max_length=32,
        choices=FollowUpAssignment.choices,
        default=FollowUpAssignment.TEAM_SUPERVISOR,
        verbose_name=_("assign to"),
    )
    # The team given follow-ups when `assign_to` is "team".
    team = models.ForeignKey(
        "inbox.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("follow-up settings")
        verbose_name_plural = _("follow-up settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=SETTINGS_ROW), name="follow_up_settings_one_row"
            )
        ]

    def __str__(self) -> str:
        return gettext("Follow-up settings")


class SurveyFollowUp(models.Model):
    """The follow-up of one poor survey answer: at most one per survey (the unique
    survey makes a second attempt, from a task run twice, a no-op)."""

    survey = models.OneToOneField(
        "inbox.CsatSurvey",
        on_delete=models.CASCADE,
        related_name="follow_up",
        verbose_name=_("survey"),
    )
    action = models.CharField(
        max_length=32, choices=FollowUpAction.choices, verbose_name=_("action")
    )
    # The conversation reopened, or the new one opened for the follow-up.
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # The partial index of Meta serves the one lookup by conversation.
        db_index=False,
        verbose_name=_("conversation"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        "inbox.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )
    status = models.CharField(
        max_length=16,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.OPEN,
        verbose_name=_("status"),
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("survey follow-up")
        verbose_name_plural = _("survey follow-ups")
        indexes = [
            # A resolve looks for the open follow-up of its conversation.
            models.Index(
                fields=["conversation"],
                name="follow_up_open_conversation",
                condition=models.Q(status="open"),
            )
        ]

    def __str__(self) -> str:
        return gettext("Follow-up of survey %(id)s") % {"id": self.survey_id}
