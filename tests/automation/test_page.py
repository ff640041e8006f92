"""The admins' page of automation rules: list, edit, switch, reorder, try, run log; in
the admin's language; nobody else sees it."""

import pytest

from automation.models import AutomationRule
from inbox.rule_events import Trigger
from tests.automation.helpers import rule_on
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

A_RULE_FORM = {
    "name": "Greet",
    "trigger": "conversation_created",
    "wait_minutes": "",
    "conditions": '{"text_contains": ["hello"]}',
    "actions": '[{"type": "add_note", "body": "New!"}]',
    "is_active": "on",
}


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_only_admins_see_the_page(client, operator, supervisor):
    assert client.get("/automation/").status_code == 302  # to the sign-in
    for user in (operator, supervisor):
        client.force_login(user)
        assert client.get("/automation/").status_code == 404


def test_an_admin_creates_a_rule_with_the_form(admin):
    answer = admin.post("/automation/new/", A_RULE_FORM)

    rule = AutomationRule.objects.get()
    assert answer.status_code == 302
    assert (rule.name, rule.is_active, rule.conditions) == (
        "Greet",
        True,
        {"text_contains": ["hello"]},
    )
    page = admin.get("/automation/").content.decode()
    assert "Greet" in page and "conversation created" in page


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("conditions", "{not json", "not valid JSON"),
        ("actions", "[]", "at least one action"),
        ("wait_minutes", "soon", "whole number"),
    ],
)
def test_a_bad_form_answers_400_saying_why(admin, field, value, complaint):
    answer = admin.post("/automation/new/", {**A_RULE_FORM, field: value})

    assert answer.status_code == 400
    assert complaint in answer.content.decode()
    assert not AutomationRule.objects.exists()


def test_switching_and_moving_rules(admin):
    first = rule_on(Trigger.CONVERSATION_CREATED, [{"type": "resolve"}], name="First")
    second = rule_on(Trigger.CONVERSATION_CREATED, [{"type": "resolve"}], name="Second")

    admin.post(f"/automation/{first.pk}/switch/")
    admin.post(f"/automation/{second.pk}/move/", {"direction": "up"})

    assert list(AutomationRule.objects.values_list("name", "is_active")) == [
        ("Second", True),
        ("First", False),
    ]


def test_trying_a_rule_on_the_page_says_how_many_it_would_have_matched(admin, channel):
    rule = rule_on(Trigger.MESSAGE_CREATED, [{"type": "resolve"}], {"text_contains": ["refund"]})
    for body in ("refund please", "hello", "hello"):
        MessageFactory(conversation=ConversationFactory(channel=channel), body=body)

    page = admin.post(f"/automation/{rule.pk}/try/").content.decode()

    assert "Would have matched 1 of the last 3 conversations." in page


def test_the_page_speaks_the_admins_language(admin, admin_user):
    admin_user.language = "ru"
    admin_user.save()
    rule_on(Trigger.CONVERSATION_CREATED, [{"type": "resolve"}], name="Привет")

    page = admin.get("/automation/").content.decode()

    assert "Правила автоматизации" in page
