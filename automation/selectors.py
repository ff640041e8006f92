"""Reads of the automation rules."""

from django.db.models import QuerySet

from automation.models import AutomationRule, AutomationRun


def rule_triggers_active() -> frozenset[str]:
    """Triggers with at least one active rule (what the inbox's paths ask, cached)."""
    return frozenset(
        AutomationRule.objects.filter(is_active=True).values_list("trigger", flat=True).distinct()
    )


def rules_active_for(triggers: list[str]) -> list[AutomationRule]:
    return list(AutomationRule.objects.filter(is_active=True, trigger__in=triggers))


def rule_runs_recent(*, rule: AutomationRule, limit: int = 50) -> QuerySet[AutomationRun]:
    return rule.runs.order_by("-created_at", "-id")[:limit]
