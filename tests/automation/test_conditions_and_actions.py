"""Each condition decides whether a rule runs; each action does what it says, as an
operator's would show in the thread."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from automation.conditions import Subject, conditions_match
from automation.models import AutomationRun
from inbox import services
from inbox.models import CannedResponse, Conversation, ConversationStatus, Message, Role
from inbox.rule_events import Trigger
from inbox.sla.models import BusinessHours
from tests.automation.helpers import inbound, rule_on, run_queued, runs_of
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    LabelFactory,
    TeamFactory,
    UserFactory,
)
from tests.inbox.test_auto_assign import _forget_presence_and_turns, set_online  # noqa: F401

pytestmark = pytest.mark.django_db

HIGH = [{"type": "set_priority", "priority": "high"}]


def priority_after_message(channel, text="hello", language="", sender="u-1") -> str:
    outcome = services.message_receive(
        channel=channel,
        inbound=inbound(f"m-{text[:20]}-{len(text)}-{sender}", text, sender, language),
    )
    run_queued()
    return Conversation.objects.get(pk=outcome.conversation.pk).priority


@pytest.mark.parametrize(
    ("wanted", "text", "matches"),
    [
        ({"text_contains": ["Refund"]}, "I want a refund please", True),
        ({"text_contains": ["refund", "money back"]}, "hello there", False),
        ({"text_regex": r"order #?\d{5}"}, "where is order #12345?", True),
        ({"text_regex": r"order #?\d{5}"}, "where is my order?", False),
    ],
)
def test_text_conditions(channel, wanted, text, matches):
    rule_on(Trigger.MESSAGE_CREATED, HIGH, wanted)

    assert (priority_after_message(channel, text) == "high") is matches


def test_channel_and_team_conditions(channel, team):
    other_channel = ChannelFactory(teams=[TeamFactory(name="Sales")])
    rule_on(Trigger.MESSAGE_CREATED, HIGH, {"channels": [channel.pk], "teams": [team.pk]})

    assert priority_after_message(channel) == "high"
    assert priority_after_message(other_channel, sender="u-2") == "none"


def test_language_and_customer_attribute_conditions(channel):
    rule_on(
        Trigger.MESSAGE_CREATED,
        HIGH,
        {"languages": ["ru"], "customer_attributes": {"plan": "pro"}},
    )
    services.message_receive(channel=channel, inbound=inbound("m-0", "hi", "u-ru", "ru"))
    conversation = Conversation.objects.get(customer__identities__value="shop:u-ru")
    run_queued()
    assert conversation.priority == "none"  # no plan yet

    conversation.customer.attributes = {"plan": "pro"}
    conversation.customer.save()
    assert priority_after_message(channel, "again", "ru", "u-ru") == "high"
    assert priority_after_message(channel, "hi", "pl", "u-pl") == "none"


def test_label_and_priority_conditions(channel, operator):
    urgent = LabelFactory(name="urgent")
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    rule_on(
        Trigger.CONVERSATION_RESOLVED,
        [{"type": "add_note", "body": "Resolved while urgent"}],
        {"labels": [urgent.pk], "priorities": ["none"]},
    )
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    run_queued()
    assert not Message.objects.filter(body="Resolved while urgent").exists()

    services.conversation_reopen(conversation=conversation)
    conversation.labels.add(urgent)
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    run_queued()
    assert Message.objects.filter(body="Resolved while urgent", is_private=True).count() == 1


def test_business_hours_condition_is_judged_at_the_event(channel):
    hours = BusinessHours.objects.create(
        name="Office", time_zone="UTC", weekly={"mon": [["09:00", "18:00"]]}
    )
    rule_on(Trigger.MESSAGE_CREATED, HIGH, {"business_hours": {"id": hours.pk, "open": False}})

    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)):  # a Monday, open
        assert priority_after_message(channel, "in hours", sender="u-1") == "none"
    with time_machine.travel(datetime(2026, 12, 7, 20, 0, tzinfo=UTC)):  # closed
        assert priority_after_message(channel, "after hours", sender="u-2") == "high"


def test_a_regular_expression_that_takes_too_long_is_no_match_and_says_so(channel):
    """Catastrophic backtracking: without the time limit this would take years."""
    rule = rule_on(Trigger.MESSAGE_CREATED, HIGH, {"text_regex": r"(\w+\s?)+$"})

    assert priority_after_message(channel, "a " * 9000 + "!") == "none"
    (run,) = runs_of(rule)
    assert "regular expression took longer" in run.error


def test_conditions_need_all_to_hold():
    conversation = ConversationFactory(customer=CustomerFactory(language="pl"), priority="low")
    subject = Subject(conversation=conversation, label_ids=frozenset(), text="x", at=timezone.now())

    assert conditions_match({"languages": ["pl"]}, subject, calendars={})
    assert not conditions_match(
        {"languages": ["pl"], "priorities": ["high"]}, subject, calendars={}
    )


def test_assign_round_robin_takes_turns_among_online_members(channel, team, operator):
    operator_two = UserFactory(username="boris", teams=[team])
    set_online(operator)
    set_online(operator_two)
    rule_on(Trigger.CONVERSATION_CREATED, [{"type": "assign_round_robin", "team": team.pk}])

    firsts = [
        services.message_receive(channel=channel, inbound=inbound(f"m-{n}", sender=f"u-{n}"))
        for n in range(2)
    ]
    run_queued()

    assignees = {
        Conversation.objects.get(pk=outcome.conversation.pk).assignee_id for outcome in firsts
    }
    assert assignees == {operator.pk, operator_two.pk}


def test_assign_operator_and_team(channel, team, operator):
    rule_on(
        Trigger.CONVERSATION_CREATED,
        [
            {"type": "assign_team", "team": team.pk},
            {"type": "assign_operator", "operator": operator.pk},
        ],
    )
    outcome = services.message_receive(channel=channel, inbound=inbound("m-1"))
    run_queued()

    conversation = Conversation.objects.get(pk=outcome.conversation.pk)
    assert (conversation.team_id, conversation.assignee_id) == (team.pk, operator.pk)


def test_remove_labels(channel, operator):
    spam, keep = LabelFactory(name="spam"), LabelFactory(name="keep")
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    conversation.labels.add(spam, keep)
    rule_on(Trigger.CONVERSATION_RESOLVED, [{"type": "remove_labels", "labels": [spam.pk]}])

    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    run_queued()

    assert list(conversation.labels.values_list("name", flat=True)) == ["keep"]


@pytest.mark.parametrize(("language", "expected"), [("ru", "Здравствуйте!"), ("de", "Hello!")])
def test_a_canned_reply_goes_in_the_customers_language_when_translated(channel, language, expected):
    greeting = CannedResponse.objects.create(shortcut="greeting", body="Hello!", is_shared=True)
    CannedResponse.objects.create(shortcut="greeting-ru", body="Здравствуйте!", is_shared=True)
    rule_on(
        Trigger.CONVERSATION_CREATED,
        [{"type": "send_canned_reply", "canned_response": greeting.pk}],
    )
    outcome = services.message_receive(channel=channel, inbound=inbound("m-1", language=language))
    run_queued()

    (reply,) = Message.objects.filter(conversation=outcome.conversation, direction="out")
    assert (reply.body, reply.is_private, reply.status) == (expected, False, "queued")


def test_resolve_and_snooze(channel):
    rule_on(
        Trigger.MESSAGE_CREATED, [{"type": "snooze", "minutes": 30}], {"text_contains": ["later"]}
    )
    rule_on(Trigger.MESSAGE_CREATED, [{"type": "resolve"}], {"text_contains": ["thanks, bye"]})

    later = services.message_receive(channel=channel, inbound=inbound("m-1", "call me later", "a"))
    bye = services.message_receive(channel=channel, inbound=inbound("m-2", "thanks, bye", "b"))
    run_queued()

    snoozed = Conversation.objects.get(pk=later.conversation.pk)
    assert snoozed.status == ConversationStatus.SNOOZED
    assert snoozed.snoozed_until > timezone.now() + timedelta(minutes=29)
    assert Conversation.objects.get(pk=bye.conversation.pk).status == ConversationStatus.RESOLVED


def test_an_action_that_does_not_fit_is_logged_and_the_next_still_runs(channel):
    deactivated = UserFactory(username="gone", is_active=False, role=Role.OPERATOR)
    rule = rule_on(
        Trigger.CONVERSATION_CREATED,
        [{"type": "assign_operator", "operator": deactivated.pk}, *HIGH],
    )
    outcome = services.message_receive(channel=channel, inbound=inbound("m-1"))
    run_queued()

    (run,) = runs_of(rule)
    assert run.outcomes[0] == {"type": "assign_operator", "error": "that operator is deactivated"}
    assert run.outcomes[1]["type"] == "set_priority" and "done" in run.outcomes[1]
    assert "deactivated" in run.error
    assert Conversation.objects.get(pk=outcome.conversation.pk).priority == "high"
    assert AutomationRun.objects.count() == 1
