"""Recovery codes: ten one-time codes for signing in without the authenticator app. Only
their SHA-256 digests are kept: each code is 60 random bits, far beyond guessing, so a
slow password hash would add time to every sign-in and nothing to its safety."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
        verbose_name=_("operator"),
    )
    code_digest = models.CharField(max_length=64, verbose_name=_("code digest"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        app_label = "inbox"
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_digest"], name="recovery_code_unique_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
