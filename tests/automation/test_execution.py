"""Rules run in order, at most once per event however often the task runs, and never on
their own consequences."""

import pytest

from automation.engine import automation_rules_run
from automation.models import AutomationRun
from automation.rules import rules_reorder
from inbox import services
from inbox.models import Conversation, ConversationStatus, Message, PendingTask
from inbox.rule_events import MAX_DEPTH, Trigger
from tests.automation.helpers import inbound, queued_events, rule_on, run_queued, runs_of
from tests.factories import LabelFactory

pytestmark = pytest.mark.django_db


def test_a_task_run_twice_does_nothing_twice(channel):
    rule = rule_on(Trigger.CONVERSATION_CREATED, [{"type": "add_note", "body": "Welcome note"}])
    services.message_receive(channel=channel, inbound=inbound("m-1"))
    (event,) = queued_events()

    first = automation_rules_run(event=event)
    again = automation_rules_run(event=event)

    assert (len(first), again) == (1, [])
    assert Message.objects.filter(body="Welcome note").count() == 1
    assert len(runs_of(rule)) == 1


def test_rules_run_in_order_of_position(channel):
    second = rule_on(Trigger.MESSAGE_CREATED, [{"type": "set_priority", "priority": "low"}])
    first = rule_on(Trigger.MESSAGE_CREATED, [{"type": "set_priority", "priority": "high"}])
    rules_reorder(rule_ids=[first.pk, second.pk])

    outcome = services.message_receive(channel=channel, inbound=inbound("m-1"))
    run_queued()

    # The last to run wins.
    assert Conversation.objects.get(pk=outcome.conversation.pk).priority == "low"
    assert runs_of(first)[0].pk < runs_of(second)[0].pk


def test_a_rules_own_actions_do_not_trigger_it_again(channel, operator):
    """Resolved → reopen would loop forever if a rule answered its own consequences."""
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    rule = rule_on(
        Trigger.CONVERSATION_REOPENED,
        [{"type": "resolve"}, {"type": "add_note", "body": "closed again"}],
    )
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    services.conversation_reopen(conversation=conversation, actor=operator)

    runs = run_queued()

    assert len(runs) == 1 and len(runs_of(rule)) == 1
    assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.RESOLVED


def test_a_chain_of_rules_runs_each_once_per_event(channel, operator):
    """A reopen (by hand) makes one rule resolve, which makes another label: each runs
    once, and the resolve's event names the rule that caused it."""
    vip = LabelFactory(name="vip")
    resolving = rule_on(Trigger.CONVERSATION_REOPENED, [{"type": "resolve"}])
    labelling = rule_on(Trigger.CONVERSATION_RESOLVED, [{"type": "add_labels", "labels": [vip.pk]}])
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    run_queued()
    services.conversation_reopen(conversation=conversation, actor=operator)

    run_queued()

    assert len(runs_of(resolving)) == 1
    assert len(runs_of(labelling)) == 2  # the resolve by hand, then the rule's
    assert list(conversation.labels.values_list("name", flat=True)) == ["vip"]


def test_an_event_deeper_than_the_limit_runs_nothing(channel):
    rule_on(Trigger.CONVERSATION_CREATED, [{"type": "set_priority", "priority": "high"}])
    services.message_receive(channel=channel, inbound=inbound("m-1"))
    (event,) = queued_events()

    runs = automation_rules_run(event={**event, "caused_by_rules": list(range(-MAX_DEPTH, 0))})

    assert runs == []
    assert AutomationRun.objects.count() == 0


def test_the_event_carries_the_rule_that_caused_it(channel):
    rule = rule_on(Trigger.MESSAGE_CREATED, [{"type": "resolve"}])
    rule_on(Trigger.CONVERSATION_RESOLVED, [{"type": "add_note", "body": "bye"}])
    services.message_receive(channel=channel, inbound=inbound("m-1"))
    (event,) = queued_events()
    PendingTask.objects.all().delete()

    automation_rules_run(event=event)

    (caused,) = queued_events()
    assert caused["triggers"] == [Trigger.CONVERSATION_RESOLVED]
    assert caused["caused_by_rules"] == [rule.pk]
