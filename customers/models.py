from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WHATSAPP_USER = "whatsapp_user", _("WhatsApp user id")
    WEBCHAT = "webchat", _("Website chat")
    API = "api", _("API")
    MESSENGER = "messenger", _("Facebook Messenger user id")
    INSTAGRAM = "instagram", _("Instagram user id")
    VK = "vk", _("VK user id")
    VIBER = "viber", _("Viber user id")


class Customer(models.Model):
    name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=320, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # What the customer reads (customers.languages); "" until a platform or an operator says.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    # When the customer's personal data was erased; the row stays so that their
    # conversations' counts and ratings do.
    erased_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_customers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["email"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"Customer {self.pk}"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Identity(models.Model):
    """A way to reach a customer that a channel vouched for; unique across customers."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=32, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    is_reachable = models.BooleanField(default=True)
    # What the platform shows of the person behind the id, as it last said: their handle
    # (Instagram's @username, VK's screen name) and their picture (Viber's avatar).
    username = models.CharField(max_length=100, blank=True, default="", db_default="")
    avatar_url = models.URLField(max_length=2048, blank=True, default="", db_default="")
    # What the person's app can show (VK's client_info: keyboards and button kinds), which
    # decides the form of the surveys sent there; empty until the platform says.
    client_info = models.JSONField(default=dict, blank=True, db_default={})
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class IdentityClaim(models.Model):
    """A value the customer typed themselves (an unverified email, say): shown, never merged."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="claims")
    kind = models.CharField(max_length=32, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"], name="claim_unique_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"claim {self.kind}:{self.value}"


class CustomerNote(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Note {self.pk} on customer {self.customer_id}"


class CustomerMerge(models.Model):
    """Audit record of a merge: what moved from `merged` into `survivor`, so it can be undone."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_survived")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_absorbed")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved = models.JSONField(default=dict)
    survivor_fields_before = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Merge of customer {self.merged_id} into {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
