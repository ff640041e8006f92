"""A calendar of business hours and the SLA policies that promise answers within it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BusinessHours(models.Model):
    """When support is open: weekly intervals in a time zone, minus holidays.

    `weekly` maps "mon".."sun" to a list of ["HH:MM", "HH:MM"] intervals (several a day for
    a lunch break); `holidays` lists closed dates ("YYYY-MM-DD"), `yearly_holidays` closed
    days of every year ("MM-DD"). Validated by inbox.sla.business_hours."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    time_zone = models.CharField(max_length=64, verbose_name=_("time zone"))
    weekly = models.JSONField(default=dict, verbose_name=_("weekly hours"))
    holidays = models.JSONField(default=list, verbose_name=_("holidays"))
    yearly_holidays = models.JSONField(default=list, verbose_name=_("yearly holidays"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets for a conversation's first response, each next response and its
    resolution, in minutes of its calendar (round the clock without one). It applies to
    conversations whose channel, team and priority are among its conditions (an empty
    condition takes any); the first match by position wins."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    first_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("first response target (minutes)")
    )
    next_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("next response target (minutes)")
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("resolution target (minutes)")
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("business hours"),
    )
    # Ids and priority values; lists rather than tables: read together, all policies at
    # once, on the receiving path (inbox.sla.policies).
    channels = models.JSONField(default=list, blank=True, verbose_name=_("channels"))
    teams = models.JSONField(default=list, blank=True, verbose_name=_("teams"))
    priorities = models.JSONField(default=list, blank=True, verbose_name=_("priorities"))
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_minutes__isnull=True) | Q(first_response_minutes__gt=0),
                name="sla_first_response_positive",
            ),
            models.CheckConstraint(
                condition=Q(next_response_minutes__isnull=True) | Q(next_response_minutes__gt=0),
                name="sla_next_response_positive",
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__isnull=True) | Q(resolution_minutes__gt=0),
                name="sla_resolution_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name
