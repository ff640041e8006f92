from django.conf import settings
from django.db import models
from django.utils.translation import gettext
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


class HealthRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Customer(models.Model):
    name = models.CharField(max_length=255, blank=True, verbose_name=_("full name"))
    email = models.EmailField(max_length=320, blank=True, verbose_name=_("email"))
    phone = models.CharField(max_length=32, blank=True, verbose_name=_("phone"))
    attributes = models.JSONField(default=dict, blank=True, verbose_name=_("attributes"))
    # What the customer reads (customers.languages); "" until a platform or an operator says.
    language = models.CharField(
        max_length=8, blank=True, default="", db_default="", verbose_name=_("language")
    )
    # When the customer's personal data was erased; the row stays so that their
    # conversations' counts and ratings do.
    erased_at = models.DateTimeField(null=True, blank=True, verbose_name=_("erased at"))
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_customers",
        verbose_name=_("merged into"),
    )
    # The risk level of the customer's health as last worked out (inbox's health rules),
    # kept for the list's "at risk" filter; the profile works it out afresh.
    health_risk = models.CharField(
        max_length=8,
        choices=HealthRisk.choices,
        default=HealthRisk.LOW,
        db_default=HealthRisk.LOW,
        verbose_name=_("health risk"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            # Few customers are at risk: the filter and the refresh read only them.
            models.Index(
                fields=["health_risk"],
                name="customer_at_risk",
                condition=~models.Q(health_risk="low"),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or gettext("Customer %(id)s") % {"id": self.pk}

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Identity(models.Model):
    """A way to reach a customer that a channel vouched for; unique across customers."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identities", verbose_name=_("customer")
    )
    kind = models.CharField(max_length=32, choices=IdentityKind.choices, verbose_name=_("kind"))
    value = models.CharField(max_length=320, verbose_name=_("value"))
    is_reachable = models.BooleanField(default=True, verbose_name=_("reachable"))
    # What the platform shows of the person behind the id, as it last said: their handle
    # (Instagram's @username, VK's screen name) and their picture (Viber's avatar).
    username = models.CharField(
        max_length=100, blank=True, default="", db_default="", verbose_name=_("username")
    )
    avatar_url = models.URLField(
        max_length=2048, blank=True, default="", db_default="", verbose_name=_("picture")
    )
    # What the person's app can show (VK's client_info: keyboards and button kinds), which
    # decides the form of the surveys sent there; empty until the platform says.
    client_info = models.JSONField(
        default=dict, blank=True, db_default={}, verbose_name=_("app capabilities")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class IdentityClaim(models.Model):
    """A value the customer typed themselves (an unverified email, say): shown, never merged."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="claims", verbose_name=_("customer")
    )
    kind = models.CharField(max_length=32, choices=IdentityKind.choices, verbose_name=_("kind"))
    value = models.CharField(max_length=320, verbose_name=_("value"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("identity claim")
        verbose_name_plural = _("identity claims")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"], name="claim_unique_per_customer"
            )
        ]

    def __str__(self) -> str:
        return gettext("Unverified %(kind)s:%(value)s") % {"kind": self.kind, "value": self.value}


class CustomerNote(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="notes", verbose_name=_("customer")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(verbose_name=_("text"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")

    def __str__(self) -> str:
        return gettext("Note %(id)s on customer %(customer)s") % {
            "id": self.pk,
            "customer": self.customer_id,
        }


class CustomerMerge(models.Model):
    """Audit record of a merge: what moved from `merged` into `survivor`, so it can be undone."""

    survivor = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="merges_survived",
        verbose_name=_("surviving profile"),
    )
    merged = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="merges_absorbed",
        verbose_name=_("merged profile"),
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("merged by"),
    )
    moved = models.JSONField(default=dict, verbose_name=_("moved rows"))
    survivor_fields_before = models.JSONField(
        default=dict, verbose_name=_("surviving profile's fields before")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    undone_at = models.DateTimeField(null=True, blank=True, verbose_name=_("undone at"))
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return gettext("Merge of customer %(merged)s into customer %(survivor)s") % {
            "merged": self.merged_id,
            "survivor": self.survivor_id,
        }

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
