"""Messages, their attachments, and the idempotency keys of operators' replies."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inbox.models.conversations import Conversation


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
