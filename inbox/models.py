from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    OPERATOR = "operator", _("Operator")


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    # The language of the operator's pages; "" follows their browser (Accept-Language).
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    # The IANA time zone the operator's pages show times in; "" follows their browser.
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")

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
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    # New conversations filed under the team go to its online member with the fewest open
    # conversations, below the limit when there is one (see inbox.services).
    auto_assign = models.BooleanField(default=False)
    auto_assign_limit = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

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
    )
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,
    )
    # Where replies go on this channel: the customer's id, chat id or address there.
    recipient_address = models.CharField(max_length=320)
    status = models.CharField(
        max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NONE)
    subject = models.CharField(max_length=255, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee_at_resolve = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # When its messages' text and files were erased (the customer's erasure or retention);
    # the rows stay for counts and ratings.
    erased_at = models.DateTimeField(null=True, blank=True)
    labels = models.ManyToManyField("inbox.Label", related_name="conversations", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
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
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


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
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Repeated from the conversation so that external ids are unique per channel.
    channel = models.ForeignKey("channels_app.Channel", on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True)
    # Email: the whole text with the quoted history and signature that `body` leaves
    # out, and the HTML part made safe to show.
    # Database defaults too: the webhook fast path inserts messages in raw SQL.
    body_full = models.TextField(blank=True, default="", db_default="")
    body_html = models.TextField(blank=True, default="", db_default="")
    is_private = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    error = models.TextField(blank=True)
    # NULL, not "", for messages without one: the unique constraint skips NULLs.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    delivery_attempts = models.PositiveIntegerField(default=0)
    # Of a reply sent as several platform messages: how many went out before a failure,
    # and the first one's id (see channels_app.contracts.DeliveryProgress).
    delivery_progress = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Of a message the business wrote outside Switchboard (in the platform's own inbox):
    # where, an app name shown as its author ("Meta Business Suite"); empty otherwise.
    sent_from = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
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
        return f"Message {self.pk}"


class ReplyIdempotencyKey(models.Model):
    """An `Idempotency-Key` an operator sent with a reply, and the answer the first request
    got: the same key again within its lifetime gets that answer and sends nothing new."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    # What the first request asked for (conversation, body, files), hashed: a key reused
    # for something else is refused rather than answered with the wrong message.
    request_hash = models.CharField(max_length=64)
    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operator", "key"], name="reply_idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="reply_idempotency_key_age")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key} of operator {self.operator_id}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    remote_url = models.URLField(max_length=2000, blank=True)
    # The platform's id for a file still to be fetched into `file`.
    media_id = models.CharField(max_length=500, blank=True)
    # An email's inline image: its HTML body refers to it as `cid:<content_id>`.
    content_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    fetch_error = models.TextField(blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename

    @property
    def url(self) -> str:
        return self.file.url if self.file else self.remote_url


class Label(models.Model):
    name = models.CharField(max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#6b7280")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=ConversationEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the thread needs to word it without further queries: names, not ids only.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "-id"], name="conv_event_recent")]

    def __str__(self) -> str:
        return f"{self.kind} on conversation {self.conversation_id}"


class CannedResponse(models.Model):
    """A saved reply an operator inserts by typing `/shortcut`; `{{customer.name}}` is filled in.

    A shared reply is offered to everyone and changed by supervisors and admins only; a
    personal one is seen and changed by the user who made it (`created_by`) alone."""

    shortcut = models.SlugField(max_length=50)
    body = models.TextField()
    is_shared = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    # Interrupted while sending: the platform may have it. Never resent; still answerable.
    UNKNOWN = "unknown", "Unknown"


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    CES = "ces", "CES (1-7)"
    NPS = "nps", "NPS (0-10)"


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
        Conversation, on_delete=models.CASCADE, related_name="csat_survey"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("channels_app.Channel", on_delete=models.CASCADE, related_name="+")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_replier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(
        max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT, db_default="csat"
    )
    status = models.CharField(
        max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED
    )
    skip_reason = models.CharField(max_length=255, blank=True)
    token = models.CharField(max_length=64, unique=True)
    due_at = models.DateTimeField()
    send_attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    # The language the survey was put in; its page opens in it.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
        return f"{self.kind.upper()} survey of conversation {self.conversation_id} ({self.status})"


class LoginLockout(models.Model):
    """A username or a client address locked out of signing in after too many failures
    (see inbox.login_throttle); kept for admins to see, and to lift early."""

    class Scope(models.TextChoices):
        USERNAME = "username", "Username"
        ADDRESS = "address", "Address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    value = models.CharField(max_length=255)
    via = models.CharField(max_length=32)
    locked_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.value}"


class PendingTask(models.Model):
    """A task recorded in the transaction of the write that needs it, until the broker
    has taken it: a failed hand-over is sent again by beat (inbox.task_outbox)."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    # A task due later (a retry's countdown) is not sent before then.
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.task}{self.args}"


# The audit log's and the NPS settings' models live beside their services (inbox.audit,
# inbox.nps_settings); Django finds them here.
from inbox.audit.models import AuditRecord  # noqa: E402, F401
from inbox.nps_settings import NpsSettings  # noqa: E402, F401
