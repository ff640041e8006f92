"""Subscriptions to the inbox's events and the log of each event's delivery to them."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookSubscription(models.Model):
    """An address that receives the events it lists, signed with its own secret."""

    # Checked (http or https, a public address) by channels_app.webhook_subscriptions.
    url = models.CharField(max_length=2000, verbose_name=_("address"))
    events = models.JSONField(default=list, verbose_name=_("events"))
    # Encrypted like a channel's secrets (channels_app.secrets); never shown again.
    secret_encrypted = models.TextField(verbose_name=_("secret (encrypted)"))
    description = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("description")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    # Failed attempts since the last success, and when the first of them was made:
    # together they decide the automatic disabling (inbox.outgoing_webhooks.deliveries).
    failures_in_a_row = models.PositiveIntegerField(default=0, verbose_name=_("failures in a row"))
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("reason for disabling")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body signed and sent on every attempt,
    under one delivery id (the receiver's key for dropping repeats)."""

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook subscription"),
    )
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, verbose_name=_("delivery id"))
    event = models.CharField(max_length=64, verbose_name=_("event"))
    event_id = models.UUIDField(verbose_name=_("event id"))
    body = models.TextField(verbose_name=_("body"))
    status = models.CharField(
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
        verbose_name=_("status"),
    )
    # Failed attempts since it was queued or redelivered: where the retry schedule stands.
    failed_tries = models.PositiveSmallIntegerField(default=0, verbose_name=_("failed tries"))
    # When the next attempt is due; while one is under way, when its claim runs out.
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery and what the receiver answered (or why none came)."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("webhook delivery"),
    )
    attempted_at = models.DateTimeField(verbose_name=_("attempted at"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))
    response_status = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("response status")
    )
    response_body = models.TextField(blank=True, default="", verbose_name=_("response body"))
    error = models.CharField(max_length=500, blank=True, default="", verbose_name=_("error"))
    is_success = models.BooleanField(default=False, verbose_name=_("succeeded"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.response_status or self.error}"
