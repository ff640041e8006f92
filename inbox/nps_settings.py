"""The installation's NPS relationship survey settings: one row, edited by admins.

NPS asks about the company as a whole, so it is asked seldom (once per `interval_days` per
customer at most), of a share of the customers (`sample_percent`), in place of the survey
that would follow a resolved conversation (see inbox.nps).
"""

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

SETTINGS_ROW = 1


class NpsSettings(models.Model):
    enabled = models.BooleanField(default=False, verbose_name=_("enabled"))
    interval_days = models.PositiveIntegerField(default=90, verbose_name=_("interval in days"))
    # The share of eligible customers asked, 0 to 100, the same customers all interval long.
    sample_percent = models.PositiveSmallIntegerField(
        default=100, verbose_name=_("share of customers asked (%)")
    )
    # "" for the catalogue's question, a text, or one text per language.
    question = models.JSONField(default=str, blank=True, verbose_name=_("question"))
    # Whether a customer who answered on a messenger is asked the reason for their score.
    follow_up = models.BooleanField(default=True, verbose_name=_("follow-up question"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("NPS settings")
        verbose_name_plural = _("NPS settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_percent__lte=100), name="nps_sample_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=models.Q(pk=SETTINGS_ROW), name="nps_settings_one_row"
            ),
        ]

    def __str__(self) -> str:
        return "NPS settings"


def nps_settings_get() -> NpsSettings:
    """The settings; their defaults (NPS off) until an admin saves them."""
    return NpsSettings.objects.filter(pk=SETTINGS_ROW).first() or NpsSettings(pk=SETTINGS_ROW)


def nps_settings_update(*, changes: dict[str, Any]) -> NpsSettings:
    """Apply the given settings, leaving the others as they are."""
    with transaction.atomic():
        NpsSettings.objects.get_or_create(pk=SETTINGS_ROW)
        row = NpsSettings.objects.select_for_update().get(pk=SETTINGS_ROW)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return row
