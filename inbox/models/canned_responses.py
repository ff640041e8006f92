"""Saved replies operators insert by shortcut."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
