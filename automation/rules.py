"""Writes on automation rules: checked, then saved; each change reaches the inbox's
cached "which triggers are watched" in this process at once, in others within
inbox.rule_events.WATCHED_CACHE_SECONDS."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from automation.actions import check_actions
from automation.conditions import RuleInvalid, check_conditions
from automation.models import AutomationRule
from inbox.models import User
from inbox.rule_events import SWEPT_TRIGGERS, Trigger, watched_triggers_forget_cached

NAME_LIMIT = 100
WAIT_LIMIT_MINUTES = 60 * 24 * 90


def check_rule_fields(fields: dict[str, Any], *, rule: AutomationRule | None = None) -> dict:
    """The fields given, checked (RuleInvalid says what is wrong)."""
    checked: dict[str, Any] = {}
    if "name" in fields or rule is None:
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_LIMIT:
            raise RuleInvalid(
                gettext("name must be a text of 1 to %(limit)s characters") % {"limit": NAME_LIMIT}
            )
        checked["name"] = name.strip()
    if "trigger" in fields or rule is None:
        if fields.get("trigger") not in Trigger.values:
            raise RuleInvalid(
                gettext("trigger must be one of %(choices)s")
                % {"choices": ", ".join(Trigger.values)}
            )
        checked["trigger"] = fields["trigger"]
    if "wait_minutes" in fields:
        wait = fields["wait_minutes"]
        if wait is not None and not (
            isinstance(wait, int) and not isinstance(wait, bool) and 1 <= wait <= WAIT_LIMIT_MINUTES
        ):
            raise RuleInvalid(
                gettext("wait_minutes must be a whole number from 1 to %(limit)s")
                % {"limit": WAIT_LIMIT_MINUTES}
            )
        checked["wait_minutes"] = wait
    trigger = checked.get("trigger", rule.trigger if rule else None)
    wait = checked.get("wait_minutes", rule.wait_minutes if rule else None)
    if trigger in SWEPT_TRIGGERS and wait is None:
        raise RuleInvalid(gettext("this trigger needs wait_minutes"))
    if "conditions" in fields:
        checked["conditions"] = check_conditions(fields["conditions"])
    if "actions" in fields or rule is None:
        checked["actions"] = check_actions(fields.get("actions"))
    if "is_active" in fields:
        if not isinstance(fields["is_active"], bool):
            raise RuleInvalid(gettext("is_active must be true or false"))
        checked["is_active"] = fields["is_active"]
    if "position" in fields:
        position = fields["position"]
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise RuleInvalid(gettext("position must be a whole number, 0 or more"))
        checked["position"] = position
    return checked


def rule_create(*, fields: dict[str, Any], created_by: User | None = None) -> AutomationRule:
    checked = check_rule_fields(fields)
    if "position" not in checked:
        last = AutomationRule.objects.aggregate(last=Max("position"))["last"]
        checked["position"] = 0 if last is None else last + 1
    rule = AutomationRule(created_by=created_by, **checked)
    if rule.is_active:
        rule.swept_until = timezone.now()
    rule.save()
    _changed()
    return rule


def rule_update(*, rule: AutomationRule, fields: dict[str, Any]) -> AutomationRule:
    checked = check_rule_fields(fields, rule=rule)
    if checked.get("is_active") and not rule.is_active:
        # Switched on: it answers what happens from now on, not what waited meanwhile.
        rule.swept_until = timezone.now()
    for field, value in checked.items():
        setattr(rule, field, value)
    rule.save()
    _changed()
    return rule


def rule_delete(*, rule: AutomationRule) -> None:
    rule.delete()
    _changed()


def rules_reorder(*, rule_ids: list[int]) -> list[AutomationRule]:
    """Number the rules in this order (the ones left out keep their place after them)."""
    with transaction.atomic():
        rules = {rule.pk: rule for rule in AutomationRule.objects.select_for_update()}
        if len(set(rule_ids)) != len(rule_ids) or any(pk not in rules for pk in rule_ids):
            raise RuleInvalid(gettext("order must list existing rules, each once"))
        rest = [
            rule
            for rule in sorted(rules.values(), key=lambda rule: (rule.position, rule.pk))
            if rule.pk not in rule_ids
        ]
        ordered = [rules[pk] for pk in rule_ids] + rest
        for position, rule in enumerate(ordered):
            rule.position = position
        AutomationRule.objects.bulk_update(ordered, ["position"])
    return ordered


def rule_move(*, rule_id: int, is_up: bool) -> None:
    """Swap the rule with the one before it (or after it); nothing at either end."""
    ids = list(AutomationRule.objects.values_list("pk", flat=True))
    if rule_id not in ids:
        return
    index = ids.index(rule_id)
    other = index - 1 if is_up else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        rules_reorder(rule_ids=ids)


def _changed() -> None:
    # At once for this transaction's own later reads, and again once others can see it.
    watched_triggers_forget_cached()
    transaction.on_commit(watched_triggers_forget_cached)
