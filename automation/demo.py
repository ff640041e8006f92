"""`make demo`'s automation rules: one that labels questions about an order (it runs on
the demo's own messages), one that nudges after a day without the customer's answer, and
one, switched off, that answers outside office hours in the customer's language (try it
on the page before switching it on); and two shared macros for the reply box."""

from automation import rules
from automation.models import AutomationRule, Macro
from inbox.labels import label_create
from inbox.models import CannedResponse, Label
from inbox.rule_events import Trigger
from inbox.sla.models import BusinessHours

AFTER_HOURS = {
    "after-hours": "Thanks for writing! We are out of the office now and answer first thing "
    "in the morning.",
    "after-hours-ru": "Спасибо за сообщение! Сейчас мы не в офисе и ответим утром.",
    "after-hours-pl": "Dziękujemy za wiadomość! Jesteśmy poza biurem i odpowiemy rano.",
}
CLOSING = {
    "closing": "Glad we could help, {{customer.first_name}}! Write to us any time.",
    "closing-ru": "Рады, что смогли помочь, {{customer.first_name}}! Пишите в любое время.",
    "closing-pl": "Cieszymy się, że mogliśmy pomóc, {{customer.first_name}}! "
    "Piszcie o każdej porze.",
}


def automation_demo_rules_seed() -> None:
    """Runs once; before the demo's conversations arrive, so that they meet the rules."""
    if AutomationRule.objects.exists():
        return
    orders = Label.objects.filter(name="orders").first() or label_create(
        name="orders", color="#0891b2"
    )
    rules.rule_create(
        fields={
            "name": "Label questions about an order",
            "trigger": Trigger.MESSAGE_CREATED,
            "conditions": {"text_regex": r"(?i)(order|заказ|zamówieni)\w*\s*(#|№)\s*\d+"},
            "actions": [{"type": "add_labels", "labels": [orders.pk]}],
            "is_active": True,
        }
    )
    rules.rule_create(
        fields={
            "name": "Nudge after a day without the customer's answer",
            "trigger": Trigger.NO_CUSTOMER_REPLY,
            "wait_minutes": 24 * 60,
            "actions": [{"type": "add_note", "body": "No answer for a day: follow up or resolve."}],
            "is_active": True,
        }
    )
    replies = _shared_replies(AFTER_HOURS)
    office = BusinessHours.objects.filter(name="Office hours").first()
    rules.rule_create(
        fields={
            "name": "Answer outside office hours",
            "trigger": Trigger.CONVERSATION_CREATED,
            "conditions": {"business_hours": {"id": office.pk, "open": False}} if office else {},
            "actions": [
                {"type": "send_canned_reply", "canned_response": replies["after-hours"].pk}
            ],
            "is_active": False,
        }
    )


def automation_demo_macros_seed() -> None:
    """Runs once: "Escalate" and "Close as answered", shared."""
    if Macro.objects.exists():
        return
    urgent = Label.objects.filter(name="urgent").first() or label_create(
        name="urgent", color="#dc2626"
    )
    closing = _shared_replies(CLOSING)
    Macro.objects.create(
        name="Escalate",
        is_shared=True,
        actions=[
            {"type": "add_labels", "labels": [urgent.pk]},
            {"type": "set_priority", "priority": "high"},
            {"type": "add_note", "body": "Escalated: needs a second look today."},
        ],
    )
    Macro.objects.create(
        name="Close as answered",
        is_shared=True,
        actions=[
            {"type": "send_canned_reply", "canned_response": closing["closing"].pk},
            {"type": "resolve"},
        ],
    )


def _shared_replies(bodies: dict[str, str]) -> dict[str, CannedResponse]:
    return {
        shortcut: CannedResponse.objects.get_or_create(
            shortcut=shortcut, defaults={"body": body, "is_shared": True}
        )[0]
        for shortcut, body in bodies.items()
    }
