"""An admin's changes to calendars and SLA policies. Each change takes effect for new
clocks in this process at once and in others within POLICY_CACHE_SECONDS; clocks already
running keep their due times until their conversation next changes."""

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext

from inbox.sla.models import BusinessHours, SlaPolicy
from inbox.sla.policies import policies_forget_cached


class SlaSettingInvalid(ValueError):
    """A change that cannot be made; `field` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def business_hours_save(*, business_hours: BusinessHours | None, **values: Any) -> BusinessHours:
    """Create (business_hours None) or change a calendar from checked values."""
    business_hours = business_hours or BusinessHours()
    for field, value in values.items():
        setattr(business_hours, field, value)
    if (
        BusinessHours.objects.filter(name=business_hours.name)
        .exclude(pk=business_hours.pk)
        .exists()
    ):
        raise SlaSettingInvalid("name", gettext("a calendar of that name exists"))
    with transaction.atomic():
        business_hours.save()
        transaction.on_commit(policies_forget_cached)
    return business_hours


def business_hours_delete(*, business_hours: BusinessHours) -> None:
    try:
        with transaction.atomic():
            business_hours.delete()
    except ProtectedError:
        raise SlaSettingInvalid(
            "business_hours", gettext("SLA policies use this calendar; change them first")
        ) from None


def sla_policy_save(*, policy: SlaPolicy | None, **values: Any) -> SlaPolicy:
    """Create (policy None) or change an SLA policy from checked values."""
    policy = policy or SlaPolicy()
    for field, value in values.items():
        setattr(policy, field, value)
    if SlaPolicy.objects.filter(name=policy.name).exclude(pk=policy.pk).exists():
        raise SlaSettingInvalid("name", gettext("an SLA policy of that name exists"))
    with transaction.atomic():
        policy.save()
        transaction.on_commit(policies_forget_cached)
    return policy


def sla_policy_delete(*, policy: SlaPolicy) -> None:
    """Conversations it applied to keep their clocks' due times and breaches, without a
    policy that could count them again."""
    with transaction.atomic():
        policy.delete()
        transaction.on_commit(policies_forget_cached)
