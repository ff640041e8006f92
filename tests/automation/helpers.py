from automation import rules
from automation.engine import automation_rules_run
from automation.models import AutomationRule, AutomationRun
from channels_app.contracts import InboundIdentity, InboundMessage
from inbox.models import PendingTask
from inbox.rule_events import RULES_RUN_TASK


def rule_on(trigger: str, actions: list[dict], conditions: dict | None = None, **fields):
    return rules.rule_create(
        fields={
            "name": f"When {trigger}",
            "trigger": trigger,
            "actions": actions,
            "conditions": conditions or {},
            "is_active": True,
            **fields,
        }
    )


def queued_events() -> list[dict]:
    return [row.args[0] for row in PendingTask.objects.filter(task=RULES_RUN_TASK).order_by("pk")]


def run_queued() -> list[AutomationRun]:
    """What the worker does with the events queued so far (and those their rules queue)."""
    runs: list[AutomationRun] = []
    while rows := list(PendingTask.objects.filter(task=RULES_RUN_TASK).order_by("pk")):
        PendingTask.objects.filter(pk__in=[row.pk for row in rows]).delete()
        for row in rows:
            runs += automation_rules_run(event=row.args[0])
    return runs


def inbound(external_id: str, text: str = "hello", sender: str = "u-1", language: str = ""):
    return InboundMessage(
        external_id=external_id,
        recipient_address=sender,
        identities=(InboundIdentity("api", f"shop:{sender}"),),
        sender_name="Maria",
        sender_language=language,
        text=text,
    )


def runs_of(rule: AutomationRule) -> list[AutomationRun]:
    return list(rule.runs.order_by("pk"))
