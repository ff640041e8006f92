"""`make demo` shows automation: three rules, one of them labelling the demo's own
questions about an order once the worker runs it, and two shared macros."""

import pytest

from automation.macros import macro_apply
from automation.models import AutomationRule, Macro
from channels_app.demo import seed_demo
from inbox.models import Conversation, User
from tests.automation.helpers import run_queued

pytestmark = pytest.mark.django_db


def test_the_demo_has_rules_and_one_labels_questions_about_orders():
    seed_demo()
    seed_demo()

    run_queued()

    assert list(AutomationRule.objects.values_list("name", "is_active")) == [
        ("Label questions about an order", True),
        ("Nudge after a day without the customer's answer", True),
        ("Answer outside office hours", False),
    ]
    labelled = Conversation.objects.filter(labels__name="orders")
    assert sorted(labelled.values_list("recipient_address", flat=True)) == ["1001", "c-1", "c-5"]


def test_the_demos_close_macro_thanks_a_russian_customer_in_russian_and_resolves():
    seed_demo()
    closing = Macro.objects.get(name="Close as answered")
    conversation = Conversation.objects.filter(customer__language="ru").first()
    supervisor = User.objects.filter(role="supervisor").first() or User.objects.first()

    outcomes = macro_apply(macro=closing, conversation=conversation, operator=supervisor)

    assert outcomes == [{"type": "send_canned_reply", "ok": True}, {"type": "resolve", "ok": True}]
    reply = conversation.messages.filter(direction="out").latest("pk")
    first_name = conversation.customer.name.split()[0]
    assert reply.body == f"Рады, что смогли помочь, {first_name}! Пишите в любое время."
    assert list(Macro.objects.values_list("name", flat=True)) == ["Close as answered", "Escalate"]
