"""Labels: supervisors define them, operators put them on conversations they can see."""

import pytest

from inbox.models import ConversationEvent, ConversationEventKind, Label
from tests.conftest import client_for
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    LabelFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


def test_supervisors_create_labels_and_everyone_lists_them(supervisor_client, operator_client):
    created = supervisor_client.post(
        "/api/v1/labels/", {"name": "  VIP  customer ", "color": "#AA0000"}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["name"] == "VIP customer"
    assert created.json()["color"] == "#aa0000"
    listed = operator_client.get("/api/v1/labels/").json()
    assert [label["name"] for label in listed] == ["VIP customer"]


def test_operators_may_not_create_change_or_delete_labels(operator_client):
    label = LabelFactory(name="Refund")

    assert operator_client.post("/api/v1/labels/", {"name": "x"}, format="json").status_code == 403
    assert (
        operator_client.patch(f"/api/v1/labels/{label.pk}/", {"name": "y"}, format="json")
    ).status_code == 403
    assert operator_client.delete(f"/api/v1/labels/{label.pk}/").status_code == 403
    assert Label.objects.get(pk=label.pk).name == "Refund"


@pytest.mark.parametrize(
    "payload",
    [{"name": ""}, {"name": "refund"}, {"name": "ok", "color": "red"}, {"name": "x" * 51}],
)
def test_invalid_labels_are_refused_with_json_errors(supervisor_client, payload):
    LabelFactory(name="Refund")

    response = supervisor_client.post("/api/v1/labels/", payload, format="json")

    assert response.status_code == 400
    assert response.json()
    assert Label.objects.count() == 1


def test_supervisors_rename_and_delete_labels(supervisor_client, channel):
    label = LabelFactory(name="Refund")
    conversation = ConversationFactory(channel=channel)
    conversation.labels.add(label)

    renamed = supervisor_client.patch(
        f"/api/v1/labels/{label.pk}/", {"name": "Refunds", "color": "#00aa00"}, format="json"
    )
    deleted = supervisor_client.delete(f"/api/v1/labels/{label.pk}/")

    assert renamed.json() == {"id": label.pk, "name": "Refunds", "color": "#00aa00"}
    assert deleted.status_code == 204
    assert not Label.objects.exists()
    assert conversation.labels.count() == 0


def test_operator_sets_labels_and_the_change_is_an_event(operator_client, operator, channel):
    refund, vip, spam = (LabelFactory(name=name) for name in ("Refund", "VIP", "Spam"))
    conversation = ConversationFactory(channel=channel)
    conversation.labels.add(spam)
    url = f"/api/v1/conversations/{conversation.pk}/labels/"

    response = operator_client.post(url, {"labels": [refund.pk, vip.pk]}, format="json")

    assert response.status_code == 200, response.content
    assert [label["name"] for label in response.json()["labels"]] == ["Refund", "VIP"]
    event = ConversationEvent.objects.get(conversation=conversation)
    assert event.kind == ConversationEventKind.LABELS_CHANGED
    assert event.actor == operator
    assert event.data == {"added": ["Refund", "VIP"], "removed": ["Spam"]}
    events = operator_client.get(f"/api/v1/conversations/{conversation.pk}/events/").json()
    assert events["results"][0]["text"] == (
        "Anna added the labels Refund, VIP and removed the label Spam"
    )


def test_setting_the_same_labels_again_records_nothing(operator_client, channel):
    label = LabelFactory(name="Refund")
    conversation = ConversationFactory(channel=channel)
    conversation.labels.add(label)

    operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/labels/", {"labels": [label.pk]}, format="json"
    )

    assert not ConversationEvent.objects.exists()


def test_unknown_label_ids_are_refused_and_nothing_changes(operator_client, channel):
    conversation = ConversationFactory(channel=channel)

    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/labels/", {"labels": [9999]}, format="json"
    )

    assert response.status_code == 400
    assert "labels" in response.json()["fields"]
    assert conversation.labels.count() == 0


def test_operators_cannot_label_conversations_they_cannot_see(operator_client):
    hidden = ConversationFactory(channel=ChannelFactory())
    label = LabelFactory(name="Refund")

    response = operator_client.post(
        f"/api/v1/conversations/{hidden.pk}/labels/", {"labels": [label.pk]}, format="json"
    )

    assert response.status_code == 404
    assert hidden.labels.count() == 0


def test_conversation_list_filters_by_label_and_shows_labels(operator_client, channel):
    refund = LabelFactory(name="Refund", color="#ff0000")
    labelled = ConversationFactory(channel=channel)
    labelled.labels.add(refund)
    MessageFactory(conversation=ConversationFactory(channel=channel))

    every = operator_client.get("/api/v1/conversations/").json()["results"]
    only = operator_client.get(f"/api/v1/conversations/?label={refund.pk}").json()["results"]

    assert len(every) == 2
    assert [conversation["id"] for conversation in only] == [labelled.pk]
    assert only[0]["labels"] == [{"id": refund.pk, "name": "Refund", "color": "#ff0000"}]


def test_conversation_list_with_labels_costs_the_same_queries(
    operator_client, channel, django_assert_num_queries
):
    def labelled_conversations(count: int) -> None:
        for index in range(count):
            conversation = ConversationFactory(channel=channel)
            conversation.labels.add(LabelFactory(name=f"L{index}"), LabelFactory(name="All"))

    labelled_conversations(1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        operator_client.get("/api/v1/conversations/")
    labelled_conversations(15)
    with django_assert_num_queries(len(small)):
        operator_client.get("/api/v1/conversations/")


def test_label_change_is_broadcast_live(operator, channel, django_capture_on_commit_callbacks):
    from unittest import mock

    label = LabelFactory(name="Refund")
    conversation = ConversationFactory(channel=channel)
    client = client_for(operator)

    with (
        mock.patch("inbox.realtime._send_now") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(
            f"/api/v1/conversations/{conversation.pk}/labels/",
            {"labels": [label.pk]},
            format="json",
        )

    types = [call.args[1]["type"] for call in send.call_args_list]
    assert "conversation.updated" in types
    assert "conversation.event" in types
