"""New conversations of a team that assigns automatically go to its online operators,
fewest open conversations first, taking turns among equals."""

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache

from channels_app.contracts import InboundIdentity, InboundMessage
from config.celery import app as celery_app
from inbox.models import Conversation, ConversationStatus
from inbox.selectors import AUTO_ASSIGN_TURN_KEY_PREFIX, presence_cache_key
from inbox.services import (
    AUTO_ASSIGN_TASK,
    conversation_auto_assign,
    conversation_resolve,
    message_receive,
    operator_presence_set,
)
from tests.factories import ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_presence_and_turns(team):
    # Never cache.clear(): in production mode the cache is the shared Redis.
    yield
    from inbox.models import User

    cache.delete_many(
        [presence_cache_key(pk) for pk in User.objects.values_list("pk", flat=True)]
        + [f"{AUTO_ASSIGN_TURN_KEY_PREFIX}{team.pk}"]
    )


@pytest.fixture
def queued(monkeypatch):
    """Tasks sent after commit, recorded here; the tests run them as a worker would."""
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, **options: sent.append((name, args))
    )
    return sent


def set_online(user, status="online"):
    async_to_sync(operator_presence_set)(
        operator={"id": user.pk, "username": user.username, "name": user.display_name},
        socket=f"tab-{user.pk}",
        status=status,
    )


@pytest.fixture
def auto_team(team):
    team.auto_assign = True
    team.save()
    return team


def customer_writes(channel, sender: str):
    return message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id=f"m-{sender}",
            recipient_address=sender,
            identities=(InboundIdentity(kind="api", value=sender),),
            text="Hello?",
        ),
    )


def run_queued(queued) -> None:
    for name, args in queued:
        assert name == AUTO_ASSIGN_TASK
        conversation_auto_assign(conversation_id=args[0])
    queued.clear()


def test_a_new_conversation_goes_to_an_online_operator_of_the_team(
    auto_team, channel, operator, queued, django_capture_on_commit_callbacks
):
    set_online(operator)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = customer_writes(channel, "u-1")
    assert queued == [(AUTO_ASSIGN_TASK, [outcome.conversation.pk])]
    run_queued(queued)

    conversation = Conversation.objects.get(pk=outcome.conversation.pk)
    assert conversation.assignee == operator
    assert conversation.events.filter(kind="assigned").exists()


def test_operators_with_fewer_open_conversations_come_first_then_turns_go_round(
    auto_team, channel, operator, queued, django_capture_on_commit_callbacks
):
    ben = UserFactory(username="ben", teams=[auto_team])
    carl = UserFactory(username="carl", teams=[auto_team])  # offline
    dora = UserFactory(username="dora", teams=[auto_team])
    for user in (operator, ben):
        set_online(user)
    set_online(dora, "away")
    ConversationFactory(channel=channel, assignee=ben, status=ConversationStatus.OPEN)

    assignees = []
    for sender in ("u-1", "u-2", "u-3", "u-4"):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = customer_writes(channel, sender)
        run_queued(queued)
        assignees.append(Conversation.objects.get(pk=outcome.conversation.pk).assignee.username)

    # Anna had nothing open and Ben one: Anna first; then, equal, they take turns. Never
    # the offline or the away operator.
    assert assignees == ["anna", "ben", "anna", "ben"]
    assert carl.assigned_conversations.count() == dora.assigned_conversations.count() == 0


def test_nobody_online_or_everyone_at_the_limit_leaves_it_in_the_team_queue(
    auto_team, channel, operator, queued, django_capture_on_commit_callbacks
):
    auto_team.auto_assign_limit = 1
    auto_team.save()
    with django_capture_on_commit_callbacks(execute=True):
        nobody_online = customer_writes(channel, "u-1")
    run_queued(queued)
    set_online(operator)
    ConversationFactory(channel=channel, assignee=operator, status=ConversationStatus.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        at_the_limit = customer_writes(channel, "u-2")
    run_queued(queued)

    for outcome in (nobody_online, at_the_limit):
        conversation = Conversation.objects.get(pk=outcome.conversation.pk)
        assert conversation.assignee is None and conversation.team == auto_team


def test_a_conversation_taken_or_closed_meanwhile_is_left_alone(
    auto_team, channel, operator, queued, django_capture_on_commit_callbacks
):
    ben = UserFactory(username="ben", teams=[auto_team])
    set_online(operator)
    with django_capture_on_commit_callbacks(execute=True):
        taken = customer_writes(channel, "u-1")
        closed = customer_writes(channel, "u-2")
    Conversation.objects.filter(pk=taken.conversation.pk).update(assignee=ben)
    conversation_resolve(conversation=closed.conversation, resolved_by=operator)

    run_queued(queued)

    assert Conversation.objects.get(pk=taken.conversation.pk).assignee == ben
    assert Conversation.objects.get(pk=closed.conversation.pk).assignee is None


def test_a_team_that_does_not_assign_automatically_queues_nothing(
    team, channel, operator, queued, django_capture_on_commit_callbacks
):
    set_online(operator)

    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(channel, "u-1")

    assert queued == []


def test_admins_switch_it_on_through_the_teams_api(admin_client_api, team):
    response = admin_client_api.patch(
        f"/api/v1/teams/{team.pk}/", {"auto_assign": True, "auto_assign_limit": 5}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["auto_assign"], response.json()["auto_assign_limit"]) == (True, 5)
