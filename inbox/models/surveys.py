"""The survey (CSAT, CES or NPS) of a resolved conversation, and its answer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from inbox.models.conversations import Conversation
from inbox.models.people import Team


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("survey status", "Scheduled")
    QUEUED = "queued", pgettext_lazy("survey status", "Queued")
    SENDING = "sending", pgettext_lazy("survey status", "Sending")
    SENT = "sent", pgettext_lazy("survey status", "Sent")
    ANSWERED = "answered", pgettext_lazy("survey status", "Answered")
    SKIPPED = "skipped", pgettext_lazy("survey status", "Skipped")
    FAILED = "failed", pgettext_lazy("survey status", "Failed")
    # Interrupted while sending: the platform may have it. Never resent; still answerable.
    UNKNOWN = "unknown", pgettext_lazy("survey status", "Unknown")


class SurveyReason(models.TextChoices):
    """Why a survey was skipped or failed, as data that reports count."""

    REOPENED = "reopened", pgettext_lazy("survey reason", "conversation reopened")
    TURNED_OFF = "turned_off", pgettext_lazy("survey reason", "surveys turned off")
    NO_REPLY = "no_reply", pgettext_lazy("survey reason", "no operator reply")
    FATIGUE = "fatigue", pgettext_lazy("survey reason", "surveyed recently")
    UNREACHABLE = "unreachable", pgettext_lazy("survey reason", "unreachable")
    WINDOW_CLOSED = "window_closed", pgettext_lazy("survey reason", "window closed")
    NO_TEMPLATE = "no_template", pgettext_lazy("survey reason", "no approved template")
    CREDENTIALS_REJECTED = (
        "credentials_rejected",
        pgettext_lazy("survey reason", "channel credentials rejected"),
    )
    PLATFORM_ERROR = "platform_error", pgettext_lazy("survey reason", "platform error")
    OTHER = "other", pgettext_lazy("survey reason", "other")


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1-5)")
    CES = "ces", _("CES (1-7)")
    NPS = "nps", _("NPS (0-10)")


class CsatSurvey(models.Model):
    """The one survey of a resolved conversation (CSAT, CES or NPS), and its answer.

    A guarded state machine: scheduled → queued → sending → sent → answered, or
    skipped/failed with the reason, or unknown (sending → unknown → answered) when the
    send's outcome was never learnt. Each step is one conditional UPDATE, so a task run
    twice, retried or redelivered after its worker died sends at most one survey. The
    operator and team are frozen at resolve time so that later reassignment never moves
    the credit.
    """

    conversation = models.OneToOneField(
        Conversation,
        on_delete=models.CASCADE,
        related_name="csat_survey",
        verbose_name=_("conversation"),
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("channel"),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("operator"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )
    last_replier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last replier"),
    )
    kind = models.CharField(
        max_length=8,
        choices=SurveyKind.choices,
        default=SurveyKind.CSAT,
        db_default="csat",
        verbose_name=_("kind"),
    )
    status = models.CharField(
        max_length=16,
        choices=SurveyStatus.choices,
        default=SurveyStatus.SCHEDULED,
        verbose_name=_("status"),
    )
    skip_reason = models.CharField(max_length=255, blank=True, verbose_name=_("why skipped"))
    # skip_reason's words as a code, for a skipped or failed survey.
    reason_code = models.CharField(
        max_length=32,
        choices=SurveyReason.choices,
        blank=True,
        default="",
        db_default="",
        verbose_name=_("reason"),
    )
    token = models.CharField(max_length=64, unique=True, verbose_name=_("token"))
    due_at = models.DateTimeField(verbose_name=_("due at"))
    send_attempts = models.PositiveIntegerField(default=0, verbose_name=_("send attempts"))
    queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("queued at"))
    sending_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("sending started at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    external_id = models.CharField(max_length=255, blank=True, verbose_name=_("external ID"))
    # The language the survey was put in; its page opens in it.
    language = models.CharField(
        max_length=8, blank=True, default="", db_default="", verbose_name=_("language")
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("rating"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(fields=["due_at"], name="csat_due", condition=Q(status="scheduled")),
            # The sweep looks for surveys stuck queued or sending: a handful among millions.
            models.Index(fields=["queued_at"], name="csat_queued", condition=Q(status="queued")),
            models.Index(
                fields=["sending_started_at"], name="csat_sending", condition=Q(status="sending")
            ),
            models.Index(fields=["customer", "-sent_at"], name="csat_customer_recent"),
            # Covers each kind's report GROUP BY, so PostgreSQL answers from the index alone.
            models.Index(
                fields=["kind", "sent_at"],
                include=["operator", "team", "channel", "rating"],
                name="survey_report_covering",
            ),
            models.Index(fields=["answered_at"], name="csat_answered"),
            # Reports count the surveys that did not go out: a few among the sent.
            models.Index(
                fields=["kind", "due_at"],
                include=["reason_code", "operator", "team", "channel"],
                name="survey_not_sent",
                condition=Q(status__in=["skipped", "failed"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True)
                | Q(kind="csat", rating__gte=1, rating__lte=5)
                | Q(kind="ces", rating__gte=1, rating__lte=7)
                | Q(kind="nps", rating__gte=0, rating__lte=10),
                name="survey_rating_on_its_scale",
            )
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s survey of conversation %(id)s (%(status)s)") % {
            "kind": self.kind.upper(),
            "id": self.conversation_id,
            "status": self.get_status_display(),
        }


def _answers_rated(value: int) -> models.IntegerField:
    return models.IntegerField(default=0, verbose_name=format_lazy(_("rated {value}"), value=value))


class SurveyDayCount(models.Model):
    """The surveys of one kind sent on one day (UTC) for one operator, team and channel,
    counted by answer: what the reports sum for whole days instead of reading every survey.

    Kept by the database itself (triggers on the survey table, see the migration that made
    this table), so every write to a survey, Django's cascades and raw statements included,
    is counted. No operator or team is 0 here, so that the row is unique without NULLs.
    """

    kind = models.CharField(max_length=8, choices=SurveyKind.choices, verbose_name=_("kind"))
    day = models.DateField(verbose_name=_("day"))
    operator_id = models.IntegerField(verbose_name=_("operator"))
    team_id = models.IntegerField(verbose_name=_("team"))
    channel_id = models.IntegerField(verbose_name=_("channel"))
    unanswered = models.IntegerField(default=0, verbose_name=_("unanswered"))
    rated_0 = _answers_rated(0)
    rated_1 = _answers_rated(1)
    rated_2 = _answers_rated(2)
    rated_3 = _answers_rated(3)
    rated_4 = _answers_rated(4)
    rated_5 = _answers_rated(5)
    rated_6 = _answers_rated(6)
    rated_7 = _answers_rated(7)
    rated_8 = _answers_rated(8)
    rated_9 = _answers_rated(9)
    rated_10 = _answers_rated(10)

    class Meta:
        verbose_name = _("surveys of a day")
        verbose_name_plural = _("surveys of a day")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "day", "operator_id", "team_id", "channel_id"],
                name="survey_day_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} operator {self.operator_id} channel {self.channel_id}"


RATING_COLUMNS: dict[int | None, str] = {
    None: "unanswered",
    **{value: f"rated_{value}" for value in range(11)},
}
