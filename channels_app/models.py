import logging
import uuid
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from channels_app.secrets import ChannelSecretsUnreadable, decrypt_secrets, encrypt_secrets
from inbox.csat import default_csat_settings as csat_defaults

logger = logging.getLogger(__name__)


class ChannelKind(models.TextChoices):
    API = "api", _("API")
    EMAIL = "email", _("Email")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBCHAT = "webchat", _("Website chat")
    MESSENGER = "messenger", _("Facebook Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    VK = "vk", _("VK")
    VIBER = "viber", _("Viber")


def default_csat_settings() -> dict[str, Any]:
    return csat_defaults()


class Channel(models.Model):
    kind = models.CharField(max_length=16, choices=ChannelKind.choices, verbose_name=_("kind"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    # Settings that may be shown; secrets live encrypted in `secrets_encrypted`.
    config = models.JSONField(default=dict, blank=True, verbose_name=_("settings"))
    secrets_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("encrypted secrets")
    )
    # Why the platform last refused the stored token (VK's error 5, Meta's 190): shown to
    # admins until a send succeeds or the secrets are set again.
    secrets_rejected = models.TextField(
        blank=True, default="", db_default="", editable=False, verbose_name=_("secrets rejected")
    )
    csat = models.JSONField(
        default=default_csat_settings, blank=True, verbose_name=_("CSAT survey")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    teams = models.ManyToManyField(
        "inbox.Team", related_name="channels", blank=True, verbose_name=_("teams")
    )
    reopen_window_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("reopen within (seconds)")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def secrets(self) -> dict[str, str]:
        """The decrypted secrets; empty when they cannot be read, and then `secrets_error`
        says why (the API and the admin show it, deliveries fail with it)."""
        return dict(self._read_secrets()[0])

    @property
    def secrets_error(self) -> str:
        """Why the secrets cannot be read, else why the platform refused them, else ""."""
        return self._read_secrets()[1] or self.secrets_rejected

    @property
    def secrets_unreadable(self) -> str:
        return self._read_secrets()[1]

    def _read_secrets(self) -> tuple[dict[str, str], str]:
        # Decrypted once per loaded row (webhooks check a signature on every request).
        cached = self.__dict__.get("_decrypted_secrets")
        if cached is None or cached[0] != self.secrets_encrypted:
            try:
                values, error = decrypt_secrets(self.secrets_encrypted), ""
            except ChannelSecretsUnreadable as unreadable:
                logger.error("channel %s: %s", self.pk, unreadable)
                values, error = {}, unreadable.reason
            cached = (self.secrets_encrypted, values, error)
            self.__dict__["_decrypted_secrets"] = cached
        return cached[1], cached[2]

    def set_secrets(self, values: dict[str, str]) -> None:
        self.secrets_encrypted = encrypt_secrets({k: v for k, v in values.items() if v})

    @property
    def webhook_path(self) -> str:
        return reverse("webhook", kwargs={"kind": self.kind, "public_id": self.public_id})


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("webhook event", "Received")
    PROCESSED = "processed", pgettext_lazy("webhook event", "Processed")
    FAILED = "failed", pgettext_lazy("webhook event", "Failed")
    IGNORED = "ignored", pgettext_lazy("webhook event", "Ignored")


class WebhookEvent(models.Model):
    """Every accepted raw delivery, kept before processing so nothing is lost if it fails."""

    # Indexed by the unique (channel, body_sha256) constraint.
    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="webhook_events",
        db_index=False,
        verbose_name=_("channel"),
    )
    body = models.BinaryField(verbose_name=_("text"))
    body_sha256 = models.CharField(max_length=64, verbose_name=_("body SHA-256"))
    content_type = models.CharField(max_length=255, blank=True, verbose_name=_("content type"))
    # Mail: the SMTP envelope's sender (MAIL FROM), which the message itself may not name;
    # processing again needs it as much as the first time.
    envelope_sender = models.CharField(
        max_length=320, blank=True, db_default="", verbose_name=_("envelope sender")
    )
    status = models.CharField(
        max_length=16,
        choices=WebhookEventStatus.choices,
        default=WebhookEventStatus.RECEIVED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "body_sha256"], name="webhook_event_unique_body"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="webhook_event_status")]

    def __str__(self) -> str:
        return gettext("Webhook event %(id)s (%(status)s)") % {
            "id": self.pk,
            "status": self.get_status_display(),
        }


class MailboxState(models.Model):
    """How far an email channel's IMAP folder has been read: UIDs are only comparable
    within one UIDVALIDITY, so a new one means the folder was recreated."""

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="mailboxes", verbose_name=_("channel")
    )
    folder = models.CharField(max_length=255, verbose_name=_("folder"))
    uid_validity = models.BigIntegerField(default=0, verbose_name=_("UIDVALIDITY"))
    last_uid = models.BigIntegerField(default=0, verbose_name=_("last UID"))
    last_polled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last checked at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    consecutive_failures = models.PositiveIntegerField(
        default=0, verbose_name=_("failures in a row")
    )

    class Meta:
        verbose_name = _("mailbox state")
        verbose_name_plural = _("mailbox states")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "folder"], name="mailbox_state_unique_folder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.folder}"
