"""Each trigger queues its rules once per event, after commit, through the outbox; with no
active rule nothing is queued at all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automation.models import AutomationRun
from inbox import csat, services
from inbox.models import Conversation, ConversationStatus, CsatSurvey, PendingTask, SlaPolicy
from inbox.rule_events import Trigger, watched_triggers_forget_cached
from inbox.sla.breaches import sla_breaches_mark
from tests.automation.helpers import inbound, queued_events, rule_on, run_queued, runs_of
from tests.factories import ConversationFactory, LabelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip(db):
    return LabelFactory(name="vip")


def labels_action(label):
    return [{"type": "add_labels", "labels": [label.pk]}]


def label_names(conversation: Conversation) -> list[str]:
    return sorted(conversation.labels.values_list("name", flat=True))


def test_with_no_active_rule_a_message_queues_nothing(channel, vip):
    rule = rule_on(Trigger.MESSAGE_CREATED, labels_action(vip))
    services.message_receive(channel=channel, inbound=inbound("m-0"))
    rule.is_active = False
    rule.save()
    watched_triggers_forget_cached()
    PendingTask.objects.all().delete()

    services.message_receive(channel=channel, inbound=inbound("m-1"))

    assert PendingTask.objects.filter(task__startswith="automation.").count() == 0


def test_a_first_message_fires_conversation_created_and_message_created_in_one_task(channel, vip):
    created = rule_on(Trigger.CONVERSATION_CREATED, labels_action(vip))
    from_customer = rule_on(Trigger.MESSAGE_CREATED, [{"type": "set_priority", "priority": "high"}])

    outcome = services.message_receive(channel=channel, inbound=inbound("m-1"))

    (event,) = queued_events()
    assert set(event["triggers"]) == {Trigger.CONVERSATION_CREATED, Trigger.MESSAGE_CREATED}
    run_queued()
    conversation = Conversation.objects.get(pk=outcome.conversation.pk)
    assert label_names(conversation) == ["vip"]
    assert conversation.priority == "high"
    assert len(runs_of(created)) == len(runs_of(from_customer)) == 1


def test_a_later_message_fires_message_created_but_not_conversation_created(channel, vip):
    services.message_receive(channel=channel, inbound=inbound("m-1"))
    rule_on(Trigger.CONVERSATION_CREATED, labels_action(vip))
    rule_on(Trigger.MESSAGE_CREATED, [{"type": "set_priority", "priority": "high"}])

    services.message_receive(channel=channel, inbound=inbound("m-2"))

    (event,) = queued_events()
    assert event["triggers"] == [Trigger.MESSAGE_CREATED]


def test_a_duplicate_delivery_fires_nothing(channel, vip):
    services.message_receive(channel=channel, inbound=inbound("m-1"))
    rule_on(Trigger.MESSAGE_CREATED, labels_action(vip))

    services.message_receive(channel=channel, inbound=inbound("m-1"))

    assert queued_events() == []


def test_resolving_fires_conversation_resolved(channel, operator, vip):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    rule = rule_on(Trigger.CONVERSATION_RESOLVED, labels_action(vip))

    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    run_queued()

    assert label_names(conversation) == ["vip"]
    assert [run.trigger for run in runs_of(rule)] == [Trigger.CONVERSATION_RESOLVED]


@pytest.mark.parametrize("how", ["operator", "customer_wrote"])
def test_reopening_fires_conversation_reopened(channel, operator, vip, how):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    rule = rule_on(Trigger.CONVERSATION_REOPENED, labels_action(vip))

    if how == "operator":
        services.conversation_reopen(conversation=conversation, actor=operator)
    else:
        services.message_receive(channel=channel, inbound=inbound("m-2"))
    run_queued()

    assert label_names(conversation) == ["vip"]
    assert len(runs_of(rule)) == 1


def test_a_snooze_ending_fires_snooze_ended(channel, vip):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    services.conversation_snooze(
        conversation=conversation, until=timezone.now() + timedelta(minutes=5)
    )
    rule = rule_on(Trigger.SNOOZE_ENDED, labels_action(vip))
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() - timedelta(seconds=1)
    )

    assert services.conversations_wake_snoozed() == 1
    run_queued()

    assert label_names(conversation) == ["vip"]
    assert len(runs_of(rule)) == 1


def test_an_sla_breach_fires_sla_breached_once_per_target(channel, vip):
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
    past = timezone.now() - timedelta(minutes=5)
    conversation = ConversationFactory(
        channel=channel,
        sla_policy=policy,
        first_response_due_at=past,
        sla_next_due_at=past,
        resolution_due_at=timezone.now() + timedelta(hours=4),
    )
    rule = rule_on(Trigger.SLA_BREACHED, labels_action(vip))

    sla_breaches_mark()
    sla_breaches_mark()
    run_queued()

    assert label_names(conversation) == ["vip"]
    (run,) = runs_of(rule)
    assert run.event_key == f"sla:{conversation.pk}:first_response"


def test_a_survey_answer_fires_survey_answered(channel, operator, vip):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    survey = CsatSurvey.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        channel=channel,
        token="t-1",
        due_at=timezone.now(),
        status="sent",
    )
    rule = rule_on(Trigger.SURVEY_ANSWERED, labels_action(vip))

    csat.csat_record_answer(survey=survey, rating=2)
    run_queued()

    assert label_names(conversation) == ["vip"]
    assert runs_of(rule)[0].event_key == f"survey:{survey.pk}"


def test_a_rule_of_another_trigger_does_not_run(channel, vip):
    rule_on(Trigger.CONVERSATION_RESOLVED, labels_action(vip))
    rule_on(Trigger.CONVERSATION_CREATED, [{"type": "set_priority", "priority": "low"}])

    outcome = services.message_receive(channel=channel, inbound=inbound("m-1"))
    run_queued()

    assert label_names(outcome.conversation) == []
    assert AutomationRun.objects.count() == 1
    assert Conversation.objects.get(pk=outcome.conversation.pk).status == ConversationStatus.OPEN
