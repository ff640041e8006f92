"""`make demo` shows automation: three rules, one of them labelling the demo's own
questions about an order once the worker runs it."""

import pytest

from automation.models import AutomationRule
from channels_app.demo import seed_demo
from inbox.models import Conversation
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
