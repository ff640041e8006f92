"""System events: what happens to a conversation is recorded, worded and shown in its thread."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation, ConversationEvent, User
from inbox.services import conversations_wake_snoozed, customer_merge_with_conversations
from tests.conftest import client_for
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import api_payload, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(channel):
    conversation = ConversationFactory(channel=channel, customer=CustomerFactory(name="Maria"))
    MessageFactory(conversation=conversation, body="Where is my parcel?")
    return conversation


def event_texts(conversation) -> list[str]:
    supervisor = User.objects.filter(username="boss").first() or UserFactory(
        username="boss", role="supervisor"
    )
    client = client_for(supervisor)
    response = client.get(f"/api/v1/conversations/{conversation.pk}/events/")
    assert response.status_code == 200
    return [event["text"] for event in response.json()["results"]]


def test_operator_actions_are_recorded_in_order_with_who_did_them(
    operator_client, operator, conversation, team
):
    ben = UserFactory(username="ben", first_name="Ben", teams=[team])
    base = f"/api/v1/conversations/{conversation.pk}"
    until = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0)

    operator_client.post(f"{base}/assign/", {"operator": operator.pk}, format="json")
    operator_client.post(f"{base}/assign/", {"operator": ben.pk}, format="json")
    operator_client.post(f"{base}/assign/", {"operator": None}, format="json")
    operator_client.patch(f"{base}/", {"priority": "urgent"}, format="json")
    operator_client.post(f"{base}/snooze/", {"until": until.isoformat()}, format="json")
    operator_client.post(f"{base}/reopen/")
    operator_client.post(f"{base}/resolve/")

    assert event_texts(conversation) == [
        "Anna took this conversation",
        "Anna assigned this to Ben",
        "Anna unassigned Ben",
        "Anna set the priority to Urgent",
        f"Anna snoozed this until {until.strftime('%d %b %H:%M')} UTC",
        "Anna reopened this",
        "Anna resolved this",
    ]
    event = client_for(operator).get(f"{base}/events/").json()["results"][-1]
    assert event["kind"] == "resolved"
    assert event["actor"] == {"id": operator.pk, "username": "anna", "name": "Anna"}


def test_setting_the_same_value_again_records_nothing(operator_client, operator, conversation):
    base = f"/api/v1/conversations/{conversation.pk}"
    operator_client.post(f"{base}/assign/", {"operator": operator.pk}, format="json")

    operator_client.post(f"{base}/assign/", {"operator": operator.pk}, format="json")
    operator_client.patch(f"{base}/", {"priority": "none"}, format="json")

    assert ConversationEvent.objects.count() == 1


def test_a_customer_writing_to_a_resolved_conversation_reopens_it_as_an_event(
    operator_client, client, channel
):
    body = api_payload(message_id="m-1")
    client.post(
        f"/webhooks/api/{channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )
    conversation = Conversation.objects.get()
    operator_client.post(f"/api/v1/conversations/{conversation.pk}/resolve/")

    again = api_payload(message_id="m-2", text="Still waiting")
    client.post(
        f"/webhooks/api/{channel.public_id}/",
        data=again,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(again),
    )

    assert event_texts(conversation) == ["Anna resolved this", "Reopened: the customer wrote again"]


def test_the_end_of_a_snooze_and_a_merge_are_recorded(conversation, operator):
    Conversation.objects.filter(pk=conversation.pk).update(
        status="snoozed", snoozed_until=timezone.now() - timedelta(minutes=1)
    )
    conversations_wake_snoozed()
    duplicate = CustomerFactory(name="Maria G.")
    moved = ConversationFactory(channel=conversation.channel, customer=duplicate)

    customer_merge_with_conversations(
        survivor=conversation.customer, merged=duplicate, merged_by=operator
    )

    assert event_texts(conversation) == ["Snooze ended"]
    assert event_texts(moved) == ["Anna merged customer Maria G. into Maria"]


def test_another_teams_operator_cannot_read_the_events(conversation):
    outsider = client_for(UserFactory(teams=[TeamFactory(name="Billing")]))

    response = outsider.get(f"/api/v1/conversations/{conversation.pk}/events/")

    assert response.status_code == 404


def test_the_thread_shows_events_between_messages_in_time_order(
    client, operator, operator_client, conversation
):
    operator_client.post(f"/api/v1/conversations/{conversation.pk}/resolve/")
    MessageFactory(conversation=conversation, body="One more question")
    client.force_login(operator)

    response = client.get(f"/inbox/conversations/{conversation.pk}/")

    thread = response.json()["thread_html"]
    first = thread.index("Where is my parcel?")
    event = thread.index("Anna resolved this")
    last = thread.index("One more question")
    assert first < event < last
    assert 'class="thread-event thread-event-resolved"' in thread


def test_the_event_goes_out_live_on_commit(
    operator_client, conversation, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[dict] = []
    monkeypatch.setattr(
        "inbox.realtime._send_now",
        lambda groups, payload: sent.append(json.loads(json.dumps(payload))),
    )

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/api/v1/conversations/{conversation.pk}/resolve/")

    event = next(item for item in sent if item["type"] == "conversation.event")
    assert event["conversation_id"] == conversation.pk
    assert event["event"]["text"] == "Anna resolved this"
