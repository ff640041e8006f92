"""The breach sweep names each missed target once, moves on to the next due time, and
tells the operators who may see the conversation, live."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation.models import AutomationRule
from inbox.models import Conversation, PendingTask, WebhookDelivery, WebhookSubscription
from inbox.outgoing_webhooks.emitting import CONVERSATION_UPDATED
from inbox.representations import conversation_representation
from inbox.rule_events import RULES_RUN_TASK, Trigger
from inbox.sla.breaches import SWEEP_TASK, sla_breaches_mark
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory
from tests.inbox.sla_support import sweeps_run_at_once
from tests.inbox.test_inbox_consumer import connect, next_event_of_type


def overdue(channel, policy, *, minutes_late: int = 5, **clocks) -> Conversation:
    now = timezone.now()
    first_due = now - timedelta(minutes=minutes_late)
    values = {
        "first_response_due_at": first_due,
        "resolution_due_at": now + timedelta(hours=4),
        "sla_next_due_at": first_due,
        **clocks,
    }
    return ConversationFactory(channel=channel, sla_policy=policy, **values)


def test_the_sweep_is_scheduled_on_beat_and_its_task_registered(settings):
    from config.celery import app

    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert SWEEP_TASK in entries
    app.loader.import_default_modules()
    assert SWEEP_TASK in app.tasks


@pytest.mark.django_db
def test_a_missed_target_is_named_once_and_the_next_due_time_follows(
    channel, standard, django_capture_on_commit_callbacks
):
    conversation = overdue(channel, standard)

    with django_capture_on_commit_callbacks(execute=True):
        first = sla_breaches_mark()
    again = sla_breaches_mark()

    conversation.refresh_from_db()
    assert (first, again) == (1, 0)
    assert conversation.first_response_breached
    assert conversation.sla_next_due_at == conversation.resolution_due_at
    assert conversation_representation(conversation)["sla"]["breached"] == ["first_response"]


@pytest.mark.django_db
def test_what_is_not_due_yet_or_paused_is_left_alone(channel, standard):
    later = ConversationFactory(
        channel=channel,
        sla_policy=standard,
        first_response_due_at=timezone.now() + timedelta(minutes=5),
        sla_next_due_at=timezone.now() + timedelta(minutes=5),
    )
    paused = overdue(
        channel,
        standard,
        first_response_due_at=None,
        resolution_due_at=timezone.now() - timedelta(minutes=1),
        sla_paused_at=timezone.now() - timedelta(minutes=30),
        sla_next_due_at=timezone.now() - timedelta(minutes=1),
    )

    assert sla_breaches_mark() == 0

    later.refresh_from_db()
    paused.refresh_from_db()
    assert not later.first_response_breached
    assert not paused.resolution_breached
    assert paused.sla_next_due_at is None


@pytest.mark.django_db
def test_a_conversation_whose_policy_was_deleted_is_swept_no_more(channel, standard):
    conversation = overdue(channel, standard)
    standard.delete()

    assert sla_breaches_mark() == 0

    conversation.refresh_from_db()
    assert conversation.sla_next_due_at is None
    assert not conversation.first_response_breached


@pytest.mark.django_db
def test_each_breach_costs_the_sweep_its_own_save_and_no_more(
    channel, standard, django_capture_on_commit_callbacks
):
    """Announced live, to a webhook subscribed to conversation updates and to a rule
    watching breaches, the breaches of one sweep are read, labelled and recorded together."""
    WebhookSubscription.objects.create(
        url="https://example.com/hook", events=[CONVERSATION_UPDATED], secret_encrypted="-"
    )
    AutomationRule.objects.create(
        name="Escalate",
        trigger=Trigger.SLA_BREACHED,
        actions=[{"type": "set_priority", "priority": "urgent"}],
        is_active=True,
    )

    def queries_to_mark(count: int) -> int:
        for _ in range(count):
            overdue(channel, standard)
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=False),
        ):
            assert sla_breaches_mark() == count
        return len(captured)

    queries_to_mark(1)  # what each process reads once every few seconds is read now
    one, six = queries_to_mark(1), queries_to_mark(6)

    assert (six - one) / 5 == 1
    assert WebhookDelivery.objects.count() == 8
    assert PendingTask.objects.filter(task=RULES_RUN_TASK).count() == 8


@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_mark_each_breach_once(channel, standard):
    conversations = [overdue(channel, standard, minutes_late=index) for index in range(120)]

    marked = sweeps_run_at_once(sla_breaches_mark)

    assert sum(marked) == len(conversations)
    assert Conversation.objects.filter(first_response_breached=True).count() == 120
    assert not Conversation.objects.filter(sla_next_due_at__lte=timezone.now()).exists()


@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_breach_is_pushed_live_to_the_operators_who_see_the_conversation(
    channel, operator, standard
):
    outsider = await sync_to_async(UserFactory)(
        teams=[await sync_to_async(TeamFactory)(name="Billing")]
    )
    elsewhere = await sync_to_async(ChannelFactory)()
    mine, theirs = await connect(operator), await connect(outsider)
    conversation = await sync_to_async(overdue)(channel, standard)
    await sync_to_async(overdue)(elsewhere, standard)

    assert await sync_to_async(sla_breaches_mark)() == 2

    updated = await next_event_of_type(mine, "conversation.updated")
    assert updated["conversation"]["id"] == conversation.pk
    assert updated["conversation"]["sla"]["breached"] == ["first_response"]
    while not await theirs.receive_nothing(timeout=0.5):
        event = await theirs.receive_json_from()
        assert event["type"] == "presence", event
    await mine.disconnect()
    await theirs.disconnect()
