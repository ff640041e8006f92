"""Conversations, their labels, and the events of their history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inbox.models.people import Team


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Priority(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Conversation(models.Model):
    # Foreign keys without an index of their own where a composite index of Meta starts
    # with the column: every new message moves its conversation up, and that update
    # writes to each index of the table.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,
        verbose_name=_("customer"),
    )
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,
        verbose_name=_("channel"),
    )
    # Where replies go on this channel: the customer's id, chat id or address there.
    recipient_address = models.CharField(max_length=320, verbose_name=_("recipient address"))
    status = models.CharField(
        max_length=16,
        choices=ConversationStatus.choices,
        default=ConversationStatus.OPEN,
        verbose_name=_("status"),
    )
    priority = models.CharField(
        max_length=16, choices=Priority.choices, default=Priority.NONE, verbose_name=_("priority")
    )
    subject = models.CharField(max_length=255, blank=True, verbose_name=_("subject"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        db_index=False,
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        verbose_name=_("team"),
    )
    last_message_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last message at"))
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("customer last wrote at")
    )
    first_response_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("first response at")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    assignee_at_resolve = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee when resolved"),
    )
    snoozed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("snoozed until"))
    # When its messages' text and files were erased (the customer's erasure or retention);
    # the rows stay for counts and ratings.
    erased_at = models.DateTimeField(null=True, blank=True, verbose_name=_("erased at"))
    labels = models.ManyToManyField(
        "inbox.Label", related_name="conversations", blank=True, verbose_name=_("labels")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # The SLA policy whose clocks run on it (inbox.sla.clock). No index of its own: a
    # policy is deleted rarely, and each index is written on every new message.
    sla_policy = models.ForeignKey(
        "inbox.SlaPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("SLA policy"),
    )
    # Each target's due time while its clock runs; null once met (or never started).
    first_response_due_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("first response due at")
    )
    next_response_due_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("next response due at")
    )
    next_response_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("next response clock started at")
    )
    resolution_due_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("resolution due at")
    )
    # When the resolution clock started: the opening, or the last reopening.
    resolution_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("resolution clock started at")
    )
    # The resolution clock stands still while the conversation is snoozed or pending:
    # since when, and the business time it stood still before.
    sla_paused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("SLA paused at"))
    sla_paused_seconds = models.PositiveIntegerField(
        default=0, db_default=0, verbose_name=_("SLA paused seconds")
    )
    first_response_breached = models.BooleanField(
        default=False, db_default=False, verbose_name=_("first response breached")
    )
    next_response_breached = models.BooleanField(
        default=False, db_default=False, verbose_name=_("next response breached")
    )
    resolution_breached = models.BooleanField(
        default=False, db_default=False, verbose_name=_("resolution breached")
    )
    # The earliest due time of a running clock not yet marked breached: what the sweep
    # and the "due soon" list look at.
    sla_next_due_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("next SLA due time")
    )
    # Business time (of the SLA policy's calendar, when it has one) from the opening to
    # the first answer and to the resolution, kept as each is decided: the report reads
    # them with the wall times, where a calendar could not be applied in SQL.
    first_response_business_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("first response in business time (seconds)")
    )
    resolution_business_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("resolution in business time (seconds)")
    )
    # The due time its operators were last warned of as coming soon (inbox.sla.due_soon):
    # each target's due time is announced once, however many sweeps see it coming.
    sla_due_notice_for = models.DateTimeField(
        null=True, blank=True, verbose_name=_("SLA due time announced")
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(
                fields=["sla_next_due_at"],
                name="conv_sla_next_due",
                condition=Q(sla_next_due_at__isnull=False),
            ),
            models.Index(fields=["status", "-last_message_at", "-id"], name="conv_status_recent"),
            models.Index(
                fields=["channel", "status", "-last_message_at", "-id"], name="conv_channel_recent"
            ),
            models.Index(
                fields=["assignee", "status", "-last_message_at", "-id"],
                name="conv_assignee_recent",
            ),
            # The list across statuses (the API's default, a supervisor's "all").
            models.Index(fields=["-last_message_at", "-id"], name="conv_recent"),
            models.Index(
                fields=["channel", "-last_message_at", "-id"], name="conv_channel_all_recent"
            ),
            models.Index(fields=["customer", "channel", "-id"], name="conv_customer_channel"),
            models.Index(
                fields=["snoozed_until"],
                name="conv_snoozed_until",
                condition=Q(status="snoozed"),
            ),
            # The response-time report: conversations opened in a period, and those
            # resolved in it (a partial index: open conversations, the ones every new
            # message updates, are not in it).
            models.Index(fields=["created_at"], name="conv_created"),
            models.Index(
                fields=["resolved_at"],
                name="conv_resolved",
                condition=Q(resolved_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Conversation %(id)s") % {"id": self.pk}


class Label(models.Model):
    name = models.CharField(max_length=50, unique=True, verbose_name=_("name"))
    color = models.CharField(max_length=7, default="#6b7280", verbose_name=_("colour"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConversationEventKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    TEAM_CHANGED = "team_changed", _("Team changed")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    SNOOZED = "snoozed", _("Snoozed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    LABELS_CHANGED = "labels_changed", _("Labels changed")
    MERGED = "merged", _("Customer merged")


class ConversationEvent(models.Model):
    """Something that happened to a conversation, shown in its thread between messages."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("conversation"),
    )
    kind = models.CharField(
        max_length=32, choices=ConversationEventKind.choices, verbose_name=_("kind")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    # What the thread needs to word it without further queries: names, not ids only.
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        indexes = [models.Index(fields=["conversation", "-id"], name="conv_event_recent")]

    def __str__(self) -> str:
        return gettext("%(kind)s in conversation %(id)s") % {
            "kind": self.get_kind_display(),
            "id": self.conversation_id,
        }
