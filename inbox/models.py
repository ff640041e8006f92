from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    OPERATOR = "operator", _("Operator")


class User(AbstractUser):
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.OPERATOR, verbose_name=_("role")
    )
    # The language of the operator's pages; "" follows their browser (Accept-Language).
    language = models.CharField(
        max_length=8, blank=True, default="", db_default="", verbose_name=_("language")
    )
    # The IANA time zone the operator's pages show times in; "" follows their browser.
    time_zone = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("time zone")
    )

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_all_conversations(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR) or self.is_superuser

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    # New conversations filed under the team go to its online member with the fewest open
    # conversations, below the limit when there is one (see inbox.services).
    auto_assign = models.BooleanField(default=False, verbose_name=_("assign automatically"))
    auto_assign_limit = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("open conversations per operator")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


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


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("Incoming")
    OUTBOUND = "out", _("Outgoing")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    INTERNAL = "internal", _("Internal note")
    QUEUED = "queued", _("Queued")
    # Claimed by one delivery task, which is sending it now.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    # A send that was cut off on a platform that keeps no key against repeats: it may or
    # may not have reached the customer, and only the operator may send it again.
    UNKNOWN = "unknown", _("Delivery unknown")


class Message(models.Model):
    # Indexed by message_conversation_recent (conversation, -id).
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        verbose_name=_("conversation"),
    )
    # Repeated from the conversation so that external ids are unique per channel.
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("channel"),
    )
    direction = models.CharField(
        max_length=3, choices=MessageDirection.choices, verbose_name=_("direction")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(blank=True, verbose_name=_("text"))
    # Email: the whole text with the quoted history and signature that `body` leaves
    # out, and the HTML part made safe to show.
    # Database defaults too: the webhook fast path inserts messages in raw SQL.
    body_full = models.TextField(blank=True, default="", db_default="", verbose_name=_("full text"))
    body_html = models.TextField(blank=True, default="", db_default="", verbose_name=_("HTML"))
    # What the message carried besides its text and files (a reaction, a sticker, a kind
    # the platform would not show us), as data: [{"kind", "data"}] (see
    # channels_app.contracts.ContentItem), worded in each reader's language when shown.
    content_items = models.JSONField(
        blank=True, default=list, db_default=[], verbose_name=_("content items")
    )
    is_private = models.BooleanField(default=False, verbose_name=_("private note"))
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, verbose_name=_("status")
    )
    # Why its delivery failed, as data worded for each reader (inbox.delivery_failures).
    error = models.JSONField(blank=True, default=dict, db_default={}, verbose_name=_("error"))
    # NULL, not "", for messages without one: the unique constraint skips NULLs.
    external_id = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, verbose_name=_("external ID")
    )
    delivery_attempts = models.PositiveIntegerField(default=0, verbose_name=_("delivery attempts"))
    # Of a reply sent as several platform messages: how many went out before a failure,
    # and the first one's id (see channels_app.contracts.DeliveryProgress).
    delivery_progress = models.JSONField(null=True, blank=True, verbose_name=_("delivery progress"))
    # Which delivery task holds the send (set by its claim, inbox.services.sending): every
    # later write of that task names it, so a task that outlived its claim writes nothing.
    sending_claim = models.UUIDField(null=True, blank=True, verbose_name=_("sending claim"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    # Of a message the business wrote outside Switchboard (in the platform's own inbox):
    # where, an app name shown as its author ("Meta Business Suite"); empty otherwise.
    sent_from = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("sent from")
    )
    # The emoji the customer reacted to this message with, where the platform tells
    # (Messenger, Instagram); empty when none or when they took it back.
    reaction = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("reaction")
    )
    # When the customer deleted the message on the platform (Instagram): kept, emptied,
    # and shown as deleted.
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # Per direction: an API channel's own ids for what its site sends and the ids
            # its callback gives our replies may come from different counters.
            models.UniqueConstraint(
                fields=["channel", "direction", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id_per_direction",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "-id"], name="message_conversation_recent"),
            # The sweep for sends cut off mid-way reads only the few messages being sent.
            models.Index(
                fields=["updated_at"],
                condition=Q(status="sending"),
                name="message_sending_since",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Message %(id)s") % {"id": self.pk}


class ReplyIdempotencyKey(models.Model):
    """An `Idempotency-Key` an operator sent with a reply, and the answer the first request
    got: the same key again within its lifetime gets that answer and sends nothing new."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("operator"),
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    # What the first request asked for (conversation, body, files), hashed: a key reused
    # for something else is refused rather than answered with the wrong message.
    request_hash = models.CharField(max_length=64, verbose_name=_("request hash"))
    message = models.ForeignKey(
        Message, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("message")
    )
    response_status = models.PositiveSmallIntegerField(null=True, verbose_name=_("response status"))
    response_body = models.JSONField(null=True, verbose_name=_("response body"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("reply idempotency key")
        verbose_name_plural = _("reply idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["operator", "key"], name="reply_idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="reply_idempotency_key_age")]

    def __str__(self) -> str:
        return gettext("Idempotency key %(key)s of operator %(operator)s") % {
            "key": self.key,
            "operator": self.operator_id,
        }


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True, verbose_name=_("file"))
    remote_url = models.URLField(max_length=2000, blank=True, verbose_name=_("remote URL"))
    # The platform's id for a file still to be fetched into `file`.
    media_id = models.CharField(max_length=500, blank=True, verbose_name=_("media ID"))
    # An email's inline image: its HTML body refers to it as `cid:<content_id>`.
    content_id = models.CharField(
        max_length=255, blank=True, default="", db_default="", verbose_name=_("Content-ID")
    )
    fetch_error = models.TextField(blank=True, verbose_name=_("download error"))
    filename = models.CharField(max_length=255, verbose_name=_("file name"))
    content_type = models.CharField(
        max_length=255, default="application/octet-stream", verbose_name=_("content type")
    )
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def url(self) -> str:
        return self.file.url if self.file else self.remote_url


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


class CannedResponse(models.Model):
    """A saved reply an operator inserts by typing `/shortcut`; `{{customer.name}}` is filled in.

    A shared reply is offered to everyone and changed by supervisors and admins only; a
    personal one is seen and changed by the user who made it (`created_by`) alone."""

    shortcut = models.SlugField(max_length=50, verbose_name=_("shortcut"))
    body = models.TextField(verbose_name=_("text"))
    is_shared = models.BooleanField(default=False, verbose_name=_("shared"))
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
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        constraints = [
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(is_shared=True),
                name="canned_response_unique_shared_shortcut",
            ),
            models.UniqueConstraint(
                fields=["created_by", "shortcut"],
                condition=Q(is_shared=False),
                name="canned_response_unique_personal_shortcut",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


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


class LoginLockout(models.Model):
    """A username or a client address locked out of signing in after too many failures
    (see inbox.login_throttle); kept for admins to see, and to lift early."""

    class Scope(models.TextChoices):
        USERNAME = "username", _("Username")
        ADDRESS = "address", _("Address")

    scope = models.CharField(max_length=16, choices=Scope.choices, verbose_name=_("scope"))
    value = models.CharField(max_length=255, verbose_name=_("value"))
    via = models.CharField(max_length=32, verbose_name=_("via"))
    locked_until = models.DateTimeField(verbose_name=_("locked until"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("login lockout")
        verbose_name_plural = _("login lockouts")
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.value}"


class PendingTask(models.Model):
    """A task recorded in the transaction of the write that needs it, until the broker
    has taken it: a failed hand-over is sent again by beat (inbox.task_outbox)."""

    task = models.CharField(max_length=200, verbose_name=_("task"))
    args = models.JSONField(default=list, verbose_name=_("arguments"))
    # A task due later (a retry's countdown) is not sent before then.
    not_before = models.DateTimeField(null=True, blank=True, verbose_name=_("not before"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("pending task")
        verbose_name_plural = _("pending tasks")

    def __str__(self) -> str:
        return f"{self.task}{self.args}"


# The audit log's, the message parts' and the NPS settings' models live beside their
# services (inbox.audit, inbox.message_parts, inbox.nps_settings); Django finds them here.
from inbox.audit.models import AuditRecord  # noqa: E402, F401
from inbox.follow_ups.models import FollowUpSettings, SurveyFollowUp  # noqa: E402, F401
from inbox.message_parts import MessagePart  # noqa: E402, F401
from inbox.nps_settings import NpsSettings  # noqa: E402, F401

# Outgoing webhooks' subscriptions and delivery log live beside their services
# (inbox.outgoing_webhooks).
from inbox.outgoing_webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from inbox.sla.models import BusinessHours, SlaPolicy  # noqa: E402, F401

# Two-step sign-in recovery codes live beside their services (inbox.two_factor).
from inbox.two_factor.models import RecoveryCode  # noqa: E402, F401
