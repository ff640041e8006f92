"""Operators are warned live when one of their conversations is due within ten minutes:
the conversation's team and its assignee (else everyone who sees it), once per due time,
however many sweeps run at once; the assignee also finds it in their notifications."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation, Notification, Role
from inbox.sla.due_soon import EVENT_TYPE, SWEEP_TASK, sla_due_soon_notify
from tests.factories import ChannelFactory, TeamFactory, UserFactory
from tests.inbox.sla_support import due_in, sweeps_run_at_once
from tests.inbox.test_inbox_consumer import connect, next_event_of_type


def test_the_sweep_is_scheduled_on_beat_and_its_task_registered(settings):
    from config.celery import app

    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert SWEEP_TASK in entries
    app.loader.import_default_modules()
    assert SWEEP_TASK in app.tasks


@pytest.mark.django_db
def test_a_due_time_within_ten_minutes_is_announced_once(channel, standard):
    coming = due_in(channel, standard, 9)
    due_in(channel, standard, 11)  # not yet
    overdue = due_in(channel, standard, -1)  # the breach sweep's, not a warning

    assert sla_due_soon_notify() == 1
    assert sla_due_soon_notify() == 0

    coming.refresh_from_db()
    overdue.refresh_from_db()
    assert coming.sla_due_notice_for == coming.sla_next_due_at
    assert overdue.sla_due_notice_for is None


@pytest.mark.django_db
def test_an_assigned_conversation_coming_due_lands_in_its_operators_notifications(
    channel, standard, operator, team
):
    colleague = UserFactory(username="ben", teams=[team])
    quiet = UserFactory(
        username="quiet", teams=[team], notification_settings={"in_app": ["mention"]}
    )
    mine = due_in(channel, standard, 5, team=team, assignee=operator)
    due_in(channel, standard, 6, team=team)  # the team's: the live notice alone
    due_in(channel, standard, 7, team=team, assignee=quiet)  # turned off

    assert sla_due_soon_notify() == 3

    assert list(Notification.objects.values_list("recipient", "kind", "conversation")) == [
        (operator.pk, "sla_due_soon", mine.pk)
    ]
    assert not Notification.objects.filter(recipient=colleague).exists()


@pytest.mark.django_db
def test_a_clock_started_again_is_announced_again(channel, standard):
    conversation = due_in(channel, standard, 8)
    assert sla_due_soon_notify() == 1

    # The customer wrote again after an answer: a next response is now due.
    later = timezone.now() + timedelta(minutes=9)
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due_at=None, next_response_due_at=later, sla_next_due_at=later
    )

    assert sla_due_soon_notify() == 1
    assert sla_due_soon_notify() == 0


@pytest.mark.django_db
def test_a_sweep_costs_the_same_queries_whatever_it_announces(
    channel, team, standard, django_capture_on_commit_callbacks
):
    def queries_to_announce(count: int) -> int:
        for _ in range(count):
            due_in(channel, standard, 5, team=team)
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=False),
        ):
            assert sla_due_soon_notify() == count
        return len(captured)

    assert queries_to_announce(1) == queries_to_announce(6)


@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_announce_each_due_time_once(channel, standard):
    conversations = [due_in(channel, standard, 1 + index / 20) for index in range(120)]

    announced = sweeps_run_at_once(sla_due_soon_notify)

    assert sum(announced) == len(conversations)
    assert not Conversation.objects.filter(sla_due_notice_for__isnull=True).exists()


async def receives_no(communicator, event_type: str) -> None:
    while not await communicator.receive_nothing(timeout=0.5):
        event = await communicator.receive_json_from()
        assert event["type"] != event_type, event


@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_warning_reaches_the_teams_operators_only(channel, team, operator, standard):
    # Ben's team serves the same channel, so he sees the conversation, but it is not his
    # team's; the supervisor sees everything; Olga's team serves another channel.
    make_user = sync_to_async(UserFactory)
    other_team = await sync_to_async(TeamFactory)(name="Billing")
    await sync_to_async(channel.teams.add)(other_team)
    ben = await make_user(username="ben", teams=[other_team])
    supervisor = await make_user(username="sam", role=Role.SUPERVISOR)
    olga = await make_user(
        username="olga", teams=[await sync_to_async(TeamFactory)(name="Returns")]
    )
    elsewhere = await sync_to_async(ChannelFactory)(teams=[other_team])
    sockets = {user.username: await connect(user) for user in (operator, ben, supervisor, olga)}
    conversation = await sync_to_async(due_in)(channel, standard, 5, team=team)

    assert await sync_to_async(sla_due_soon_notify)() == 1

    warning = await next_event_of_type(sockets["anna"], EVENT_TYPE)
    assert warning["conversation_id"] == conversation.pk
    assert warning["target"] == "first_response"
    assert warning["customer"]["id"] == conversation.customer_id
    for name in ("ben", "sam", "olga"):
        await receives_no(sockets[name], EVENT_TYPE)

    # Assigned to Ben, it is his to answer as well; with neither team nor assignee, it
    # concerns everyone who sees it (here, Ben's team is the only one on that channel).
    assigned = await sync_to_async(due_in)(channel, standard, 6, team=team, assignee=ben)
    nobodys = await sync_to_async(due_in)(elsewhere, standard, 7)
    assert await sync_to_async(sla_due_soon_notify)() == 2

    to_anna = await next_event_of_type(sockets["anna"], EVENT_TYPE)
    assert to_anna["conversation_id"] == assigned.pk
    to_ben = [await next_event_of_type(sockets["ben"], EVENT_TYPE) for _ in range(2)]
    assert sorted(event["conversation_id"] for event in to_ben) == [assigned.pk, nobodys.pk]
    to_sam = await next_event_of_type(sockets["sam"], EVENT_TYPE)
    assert to_sam["conversation_id"] == nobodys.pk
    await receives_no(sockets["anna"], EVENT_TYPE)
    await receives_no(sockets["olga"], EVENT_TYPE)
    for socket in sockets.values():
        await socket.disconnect()
