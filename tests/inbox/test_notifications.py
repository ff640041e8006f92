"""Operators' notifications: an @mention in a private note and a conversation given to
them; only who may see the conversation, never oneself, as each operator chose; read and
marked read through the API, and pushed live to the recipient's socket."""

import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation.actions import action_do
from inbox import services
from inbox.api.notification_views import NotificationListSerializer
from inbox.models import Notification, Role
from inbox.notifications.digests import notifications_email_digests_send
from inbox.notifications.services import mentioned_usernames
from inbox.selectors.operators import presence_cache_key
from tests.conftest import client_for
from tests.factories import ConversationFactory, TeamFactory, UserFactory
from tests.inbox.test_api_shapes import assert_fits, documented_shape
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = pytest.mark.django_db


def kinds_for(user) -> list[tuple[str, int]]:
    return list(
        Notification.objects.filter(recipient=user)
        .order_by("pk")
        .values_list("kind", "conversation_id")
    )


@pytest.fixture
def ben(team):
    return UserFactory(username="ben", first_name="Ben", teams=[team])


def test_a_note_notifies_the_colleagues_it_names_who_may_see_the_conversation(
    channel, operator, ben, supervisor
):
    conversation = ConversationFactory(channel=channel)
    outsider = UserFactory(username="olga", teams=[TeamFactory(name="Billing")])
    UserFactory(username="gone", is_active=False, teams=[operator.teams.first()])

    services.message_reply(
        conversation=conversation,
        author=operator,
        is_private=True,
        body="@Ben @sam please look; @olga @gone @anna @nobody and mail ben@example.com",
    )
    services.message_reply(conversation=conversation, author=operator, body="Hi @ben")

    assert kinds_for(ben) == [("mention", conversation.pk)]
    assert kinds_for(supervisor) == [("mention", conversation.pk)]
    assert kinds_for(outsider) == kinds_for(operator) == []
    assert Notification.objects.count() == 2


def test_mentions_are_names_after_an_at_sign_not_email_addresses():
    assert mentioned_usernames("@ben, (@sam) @anna.k. x@y.z @ @_") == ["_", "anna.k", "ben", "sam"]


def test_a_conversation_given_by_someone_else_or_a_rule_notifies_its_new_operator(
    channel, operator, ben, supervisor
):
    mine, theirs, ruled = (ConversationFactory(channel=channel) for _ in range(3))

    services.conversation_assign(conversation=mine, operator=operator, actor=operator)
    services.conversation_assign(conversation=theirs, operator=ben, actor=supervisor)
    services.conversation_assign(conversation=theirs, operator=ben, actor=supervisor)  # again
    action_do({"type": "assign_operator", "operator": ben.pk}, ruled)

    assert kinds_for(operator) == []
    assert kinds_for(ben) == [("assigned", theirs.pk), ("assigned", ruled.pk)]
    by_rule = Notification.objects.get(conversation=ruled)
    assert by_rule.actor is None


def test_the_list_the_unread_count_and_marking_read(channel, operator, ben, supervisor):
    conversations = [ConversationFactory(channel=channel) for _ in range(3)]
    for conversation in conversations:
        services.message_reply(
            conversation=conversation, author=operator, is_private=True, body="@ben see this"
        )
    services.message_reply(
        conversation=conversations[0], author=ben, is_private=True, body="@sam and you"
    )
    client = client_for(ben)

    with CaptureQueriesContext(connection) as captured:
        listed = client.get("/api/v1/notifications/").json()

    assert_fits(documented_shape(NotificationListSerializer()), listed)
    assert listed["unread"] == 3
    newest = listed["results"][0]
    assert (newest["kind"], newest["conversation"], newest["excerpt"]) == (
        "mention",
        conversations[2].pk,
        "@ben see this",
    )
    assert newest["actor"] == {"id": operator.pk, "name": "Anna"}
    queries = len(captured)
    services.message_reply(
        conversation=conversations[1], author=operator, is_private=True, body="@ben more"
    )
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/notifications/")
    assert len(captured) == queries  # flat, whatever the number

    read = client.post("/api/v1/notifications/read/", {"ids": [newest["id"]]}, format="json")
    assert read.json() == {"unread": 3}
    assert client.post("/api/v1/notifications/read/", {"all": True}, format="json").json() == {
        "unread": 0
    }
    assert Notification.objects.filter(recipient=supervisor, read_at__isnull=True).count() == 1
    refused = client.post("/api/v1/notifications/read/", {}, format="json")
    assert refused.status_code == 400 and refused.json()


def test_an_operator_chooses_which_notifications_they_get(channel, operator, ben, supervisor):
    client = client_for(ben)
    assert client.get("/api/v1/operators/me/").json()["notifications"] == {
        "in_app": ["mention", "assigned", "sla_due_soon", "customer_replied"],
        "browser": ["mention", "assigned", "sla_due_soon", "customer_replied"],
        "email": ["mention", "assigned"],
        "sound": True,
    }

    chosen = {"in_app": ["assigned"], "browser": [], "email": [], "sound": False}
    changed = client.patch("/api/v1/operators/me/", {"notifications": chosen}, format="json")
    services.message_reply(
        conversation=ConversationFactory(channel=channel),
        author=operator,
        is_private=True,
        body="@ben",
    )

    assert changed.json()["notifications"] == chosen
    assert kinds_for(ben) == []
    for bad in (
        {"in_app": ["everything"]},
        {"sound": "loud"},
        {"sms": []},
        [],
        {"in_app": [["mention"]]},  # not a kind's name: was a 500
        {"browser": [{}]},
    ):
        answer = client.patch("/api/v1/operators/me/", {"notifications": bad}, format="json")
        assert answer.status_code == 400, bad


def test_a_colleague_who_left_the_team_no_longer_reads_its_notes_in_the_list(
    channel, operator, ben, team
):
    conversation = ConversationFactory(channel=channel)
    services.message_reply(
        conversation=conversation, author=operator, is_private=True, body="@ben the code is 4711"
    )
    team.members.remove(ben)  # moved to another team: this channel is no longer his

    listed = client_for(ben).get("/api/v1/notifications/").json()

    assert (listed["unread"], listed["results"]) == (0, [])
    hidden = Notification.objects.get(recipient=ben)
    read = client_for(ben).post(
        "/api/v1/notifications/read/", {"ids": [hidden.pk + 1]}, format="json"
    )
    assert read.json() == {"unread": 0}  # as the list counts


def test_a_note_naming_many_colleagues_takes_as_many_statements_as_one_naming_one(
    channel, operator, team
):
    conversation = ConversationFactory(channel=channel)
    names = [UserFactory(username=f"colleague{n}", teams=[team]).username for n in range(10)]

    def statements_for(body: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.message_reply(
                conversation=conversation, author=operator, is_private=True, body=body
            )
        return len(captured)

    statements_for("A first note")  # what only the first note does
    assert statements_for(f"@{names[0]}") == statements_for(" ".join(f"@{n}" for n in names))
    assert Notification.objects.count() == 1 + 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_notification_reaches_its_recipients_socket_live(channel, operator, team):
    ben = await sync_to_async(UserFactory)(username="ben", teams=[team])
    supervisor = await sync_to_async(UserFactory)(username="sam", role=Role.SUPERVISOR)
    conversation = await sync_to_async(ConversationFactory)(channel=channel)
    socket = await connect(ben)

    await sync_to_async(services.conversation_assign)(
        conversation=conversation, operator=ben, actor=supervisor
    )

    event = await next_event_of_type(socket, "notification.created")
    assert event["notification"]["kind"] == "assigned"
    assert event["notification"]["conversation"] == conversation.pk
    assert event["notification"]["actor"]["id"] == supervisor.pk
    await socket.disconnect()


def test_an_offline_operator_gets_what_stayed_unread_by_email_once(
    channel, operator, ben, supervisor, smtp_sink, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.NOTIFICATION_EMAIL_AFTER_MINUTES = 15
    ben.language, ben.email = "ru", "ben@example.com"
    ben.save()
    supervisor.email = "sam@example.com"
    supervisor.save()
    conversation = ConversationFactory(channel=channel)

    def note(body: str, minutes_ago: int) -> None:
        services.message_reply(
            conversation=conversation, author=operator, is_private=True, body=body
        )
        Notification.objects.filter(pk=Notification.objects.latest("pk").pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )

    note("@ben the courier called back", 20)
    note("@ben already read", 30)
    Notification.objects.filter(message__body="@ben already read").update(read_at=timezone.now())
    note("@ben too recent", 5)
    note("@sam please approve", 20)
    cache.set(presence_cache_key(supervisor.pk), {"socket": ["online", time.time() + 60]})

    assert notifications_email_digests_send() == 1
    assert notifications_email_digests_send() == 0

    (mail,) = smtp_sink.mails
    assert mail.recipients == ["ben@example.com"]
    message = mail.message
    assert message["Subject"] == "1 уведомление в Switchboard"
    body = message.get_content()
    assert "Anna упоминает вас в заметке: @ben the courier called back" in body
    assert f"/?conversation={conversation.pk}" in body
    assert "too recent" not in body and "already read" not in body

    cache.delete(presence_cache_key(supervisor.pk))  # Sam leaves: his is due too
    assert notifications_email_digests_send() == 1
    assert smtp_sink.mails[-1].recipients == ["sam@example.com"]

    note("@ben one more", 20)
    ben.teams.clear()  # Ben leaves the team serving the channel before the email goes
    assert notifications_email_digests_send() == 0
    assert len(smtp_sink.mails) == 2
