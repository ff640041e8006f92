import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.utils import timezone

from inbox.api.serializers import (
    CONVERSATION_FILTERS,
    ConversationFilterSerializer,
    conversation_filters_if_plainly_valid,
)
from inbox.models import Conversation, ConversationStatus, Message
from tests.conftest import client_for
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="Where is my parcel?")
    return conversation


def test_a_conversation_reads_as_the_design_says(operator_client, conversation):
    response = operator_client.get(f"/api/v1/conversations/{conversation.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == conversation.pk
    assert data["status"] == "open"
    assert data["channel"] == {
        "id": conversation.channel.pk,
        "kind": "api",
        "name": conversation.channel.name,
    }
    assert data["customer"] == {"id": conversation.customer.pk, "name": conversation.customer.name}
    assert data["assignee"] is None
    assert "last_message_at" in data and "team" in data


def test_list_filters(operator_client, operator, channel):
    mine = ConversationFactory(channel=channel, assignee=operator)
    unassigned = ConversationFactory(channel=channel)
    resolved = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)
    MessageFactory(conversation=unassigned, body="The blue kettle leaks")

    def ids(query: str) -> set[int]:
        response = operator_client.get(f"/api/v1/conversations/?{query}")
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    assert ids("assignee=me") == {mine.pk}
    assert ids("assignee=none&status=open") == {unassigned.pk}
    assert ids("status=resolved") == {resolved.pk}
    assert ids(f"assignee={operator.pk}") == {mine.pk}
    assert ids(f"channel={channel.pk}") == {mine.pk, unassigned.pk, resolved.pk}
    assert ids(f"customer={mine.customer_id}") == {mine.pk}
    assert ids("q=kettle") == {unassigned.pk}


def test_an_invalid_filter_is_a_json_400(operator_client):
    response = operator_client.get("/api/v1/conversations/?status=bogus")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "status" in response.json()["fields"]


def test_the_list_is_cursor_paginated_most_recent_first(operator_client, channel):
    now = timezone.now()
    conversations = [
        ConversationFactory(channel=channel, last_message_at=now - timedelta(minutes=i))
        for i in range(5)
    ]

    first = operator_client.get("/api/v1/conversations/?page_size=2").json()
    second = operator_client.get(first["next"]).json()

    assert [c["id"] for c in first["results"] + second["results"]] == [
        c.pk for c in conversations[:4]
    ]


def test_assign_resolve_reopen_snooze(operator_client, operator, conversation, team):
    base = f"/api/v1/conversations/{conversation.pk}"

    assigned = operator_client.post(
        f"{base}/assign/", {"operator": operator.pk, "team": team.pk}, format="json"
    )
    assert assigned.status_code == 200
    assert assigned.json()["assignee"]["username"] == "anna"
    assert assigned.json()["team"] == {"id": team.pk, "name": "Support"}

    resolved = operator_client.post(f"{base}/resolve/")
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_by"]["id"] == operator.pk
    conversation.refresh_from_db()
    assert conversation.assignee_at_resolve == operator

    again = operator_client.post(f"{base}/resolve/")
    assert again.status_code == 400
    assert again.json()["error"] == "invalid"

    assert operator_client.post(f"{base}/reopen/").json()["status"] == "open"

    until = (timezone.now() + timedelta(hours=3)).isoformat()
    snoozed = operator_client.post(f"{base}/snooze/", {"until": until}, format="json")
    assert snoozed.json()["status"] == "snoozed"
    assert snoozed.json()["snoozed_until"] is not None

    unassigned = operator_client.post(f"{base}/assign/", {"operator": None}, format="json")
    assert unassigned.json()["assignee"] is None


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("snooze", {"until": "2001-01-01T00:00:00Z"}),
        ("snooze", {"until": "soon"}),
        ("snooze", {}),
        ("assign", {}),
        ("assign", {"operator": 999999}),
        ("assign", {"team": 999999}),
    ],
)
def test_bad_action_input_is_a_json_400(operator_client, conversation, action, body):
    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/{action}/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_assigning_an_operator_whose_teams_do_not_serve_the_channel_is_refused(
    operator_client, conversation
):
    outsider = UserFactory(teams=[TeamFactory()])

    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/assign/", {"operator": outsider.pk}, format="json"
    )

    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_filing_under_a_team_that_does_not_serve_the_channel_is_refused(
    operator_client, conversation
):
    elsewhere = TeamFactory(name="Billing")

    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/assign/", {"team": elsewhere.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "that team does not serve this channel"
    conversation.refresh_from_db()
    assert conversation.team_id != elsewhere.pk


def test_a_reply_is_queued_for_delivery_and_a_note_is_not(operator_client, conversation, operator):
    url = f"/api/v1/conversations/{conversation.pk}/messages/"

    reply = operator_client.post(url, {"body": "It ships tomorrow."}, format="json")
    note = operator_client.post(
        url, {"body": "Checked the warehouse", "private": True}, format="json"
    )

    assert reply.status_code == 201
    assert reply.json()["direction"] == "out"
    assert reply.json()["status"] == "queued"
    assert reply.json()["private"] is False
    assert reply.json()["author"] == {
        "id": operator.pk,
        "username": "anna",
        "name": operator.display_name,
    }
    assert note.json()["private"] is True
    assert note.json()["status"] == "internal"
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    listed = operator_client.get(url).json()["results"]
    assert [m["body"] for m in listed] == [
        "Where is my parcel?",
        "It ships tomorrow.",
        "Checked the warehouse",
    ]
    assert set(listed[0]) >= {
        "id",
        "direction",
        "body",
        "private",
        "status",
        "error",
        "external_id",
        "author",
        "attachments",
        "created_at",
    }


def test_an_empty_reply_is_refused(operator_client, conversation):
    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "   "}, format="json"
    )

    assert response.status_code == 400
    assert Message.objects.filter(direction="out").count() == 0


def test_an_operator_of_another_team_cannot_see_or_touch_the_conversation(conversation):
    outsider = client_for(UserFactory(teams=[TeamFactory(name="Billing")]))
    base = f"/api/v1/conversations/{conversation.pk}"

    assert outsider.get(f"{base}/").status_code == 404
    assert outsider.get(f"{base}/messages/").status_code == 404
    assert outsider.post(f"{base}/messages/", {"body": "hi"}, format="json").status_code == 404
    assert outsider.post(f"{base}/resolve/").status_code == 404
    assert outsider.get("/api/v1/conversations/").json()["results"] == []
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_supervisors_see_every_channel(supervisor_client, conversation):
    other = ConversationFactory(channel=ChannelFactory())

    ids = {c["id"] for c in supervisor_client.get("/api/v1/conversations/").json()["results"]}

    assert ids == {conversation.pk, other.pk}


def test_the_api_needs_authentication(client, conversation):
    response = client.get("/api/v1/conversations/")

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_unknown_api_paths_answer_json_404(operator_client):
    response = operator_client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_openapi_schema_and_docs_are_served_to_signed_in_users(operator_client, client):
    schema = operator_client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/conversations/{conversation_id}/messages/" in paths
    assert "/api/v1/channels/" in paths
    assert operator_client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/schema/?format=json").status_code == 401
    assert client.get("/api/v1/docs/").status_code == 401


def test_every_endpoint_is_described_in_the_openapi_schema():
    # Fails on any view drf-spectacular cannot describe (it would leave the view out).
    call_command("spectacular", "--fail-on-warn", "--file", os.devnull)


def test_priority_can_be_set(operator_client, conversation):
    response = operator_client.patch(
        f"/api/v1/conversations/{conversation.pk}/", {"priority": "urgent"}, format="json"
    )

    assert response.json()["priority"] == "urgent"
    assert Conversation.objects.get().priority == "urgent"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/999999/",
        "/api/v1/operators/999999/",
        "/api/v1/teams/999999/",
        "/api/v1/channels/999999/",
        "/api/v1/labels/999999/",
        "/api/v1/canned-responses/999999/",
    ],
)
def test_every_unknown_object_answers_the_same_not_found_error(admin_client_api, path):
    response = admin_client_api.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not found."}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=open",
        "status=bogus",
        "status=",
        "assignee=me",
        "assignee=none",
        "assignee=17",
        "assignee= me ",
        "assignee=you",
        "team=3&channel=4&customer=5&label=6",
        "team=007",
        "team=-1",
        "team=1.0",
        "team=" + "9" * 30,
        "q=kettle",
        "q=%20blue%20kettle%20",
        "q=%20%20",
        "q=" + "x" * 200,
        "q=" + "x" * 201,
        "q=a%00b",
        "status=open&q=kettle&assignee=me&status=pending",
        "page_size=5&cursor=abc",
    ],
)
def test_plainly_valid_filters_read_as_the_serializer_reads_them(query):
    params = QueryDict(query)
    plain = conversation_filters_if_plainly_valid(params)
    serializer = ConversationFilterSerializer(data=params)

    assert set(serializer.fields) == set(CONVERSATION_FILTERS)
    if plain is not None:
        assert serializer.is_valid(), serializer.errors
        assert plain == dict(serializer.validated_data)
