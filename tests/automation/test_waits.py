"""Rules fired by the clock: each wait fires a rule once, when it has lasted long enough,
with the time frozen and moved by hand."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from automation.waits import SWEEP_TASK, automation_waits_sweep
from inbox import services
from inbox.models import Conversation, Message
from inbox.rule_events import Trigger
from tests.automation.helpers import inbound, rule_on, runs_of

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def notes(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, is_private=True).values_list(
            "body", flat=True
        )
    )


def test_the_sweep_is_scheduled_on_beat_and_its_task_registered(settings):
    from config.celery import app

    assert SWEEP_TASK in [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    app.loader.import_default_modules()
    assert SWEEP_TASK in app.tasks


def test_no_customer_reply_for_n_hours_fires_once_after_the_wait(channel, operator):
    with time_machine.travel(START, tick=False) as clock:
        rule = rule_on(
            Trigger.NO_CUSTOMER_REPLY,
            [{"type": "add_note", "body": "nudge"}],
            wait_minutes=24 * 60,
        )
        conversation = services.message_receive(
            channel=channel, inbound=inbound("m-1")
        ).conversation
        clock.shift(timedelta(minutes=5))
        services.message_reply(conversation=conversation, author=operator, body="Does it work now?")

        clock.shift(timedelta(hours=23))
        automation_waits_sweep()
        assert notes(conversation) == []

        clock.shift(timedelta(hours=1, minutes=1))
        automation_waits_sweep()
        automation_waits_sweep()
        assert notes(conversation) == ["nudge"]
        assert len(runs_of(rule)) == 1

        # The customer answers, we answer again: a new wait, a new run.
        services.message_receive(channel=channel, inbound=inbound("m-2"))
        clock.shift(timedelta(minutes=1))
        services.message_reply(conversation=conversation, author=operator, body="And now?")
        clock.shift(timedelta(hours=25))
        automation_waits_sweep()
        assert notes(conversation) == ["nudge", "nudge"]


def test_no_customer_reply_does_not_fire_when_the_customer_answered(channel, operator):
    with time_machine.travel(START, tick=False) as clock:
        rule_on(Trigger.NO_CUSTOMER_REPLY, [{"type": "resolve"}], wait_minutes=60)
        conversation = services.message_receive(
            channel=channel, inbound=inbound("m-1")
        ).conversation
        clock.shift(timedelta(minutes=1))
        services.message_reply(conversation=conversation, author=operator, body="Hi")
        clock.shift(timedelta(minutes=30))
        services.message_receive(channel=channel, inbound=inbound("m-2"))

        clock.shift(timedelta(hours=2))
        automation_waits_sweep()

        assert Conversation.objects.get(pk=conversation.pk).status == "open"


def test_no_operator_reply_for_n_minutes(channel, operator):
    with time_machine.travel(START, tick=False) as clock:
        rule = rule_on(
            Trigger.NO_OPERATOR_REPLY,
            [{"type": "set_priority", "priority": "urgent"}],
            wait_minutes=15,
        )
        waiting = services.message_receive(channel=channel, inbound=inbound("m-1", sender="a"))
        answered = services.message_receive(channel=channel, inbound=inbound("m-2", sender="b"))
        clock.shift(timedelta(minutes=5))
        services.message_reply(conversation=answered.conversation, author=operator, body="Hi")

        clock.shift(timedelta(minutes=9))
        automation_waits_sweep()
        assert Conversation.objects.get(pk=waiting.conversation.pk).priority == "none"

        clock.shift(timedelta(minutes=2))
        automation_waits_sweep()

        assert Conversation.objects.get(pk=waiting.conversation.pk).priority == "urgent"
        assert Conversation.objects.get(pk=answered.conversation.pk).priority == "none"
        assert len(runs_of(rule)) == 1


def test_a_rule_switched_on_ignores_waits_that_ended_before(channel):
    with time_machine.travel(START, tick=False) as clock:
        conversation = services.message_receive(
            channel=channel, inbound=inbound("m-1")
        ).conversation
        clock.shift(timedelta(hours=3))
        rule_on(Trigger.NO_OPERATOR_REPLY, [{"type": "resolve"}], wait_minutes=60)

        clock.shift(timedelta(minutes=5))
        automation_waits_sweep()

        assert Conversation.objects.get(pk=conversation.pk).status == "open"
