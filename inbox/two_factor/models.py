"""Recovery codes: ten one-time codes for signing in without the authenticator app. Only
their SHA-256 digests are kept: each code is 60 random bits, far beyond guessing, so a
slow password hash would add time to every sign-in and nothing to its safety."""

from django.conf import settings
from django.db import models


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "inbox"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_digest"], name="recovery_code_unique_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
