"""Each flow that owns an event emits it: what a subscriber to every event receives for
each thing operators and customers do."""

import json

import pytest
from django.utils import timezone

from channels_app.contracts import InboundIdentity, InboundMessage
from inbox import csat, services
from inbox.models import CsatSurvey, WebhookDelivery
from inbox.outgoing_webhooks.emitting import EVENTS
from tests.factories import ConversationFactory, CustomerFactory
from tests.outgoing_webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(channel, receiver):
    outcome = services.message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id="in-1",
            recipient_address="customer-9",
            identities=(InboundIdentity(kind="api", value="customer-9"),),
            text="Hello",
        ),
    )
    subscribe(receiver.url, list(EVENTS))
    return outcome.conversation


def emitted() -> list[tuple[str, int | None]]:
    """The events recorded, in order, with the id of what each carries."""
    result = []
    for delivery in WebhookDelivery.objects.order_by("id"):
        data = json.loads(delivery.body)["data"]
        result.append((delivery.event, data.get("id")))
    return result


def test_a_reply_emits_the_message_and_the_conversation(conversation, operator):
    reply = services.message_reply(conversation=conversation, author=operator, body="Hi!")

    assert emitted() == [("message.created", reply.pk), ("conversation.updated", conversation.pk)]


def test_a_private_note_emits_only_the_message(conversation, operator):
    note = services.message_reply(
        conversation=conversation, author=operator, body="VIP", is_private=True
    )

    assert emitted() == [("message.created", note.pk)]


def test_assigning_and_snoozing_update_the_conversation_and_resolving_resolves_it(
    conversation, operator
):
    services.conversation_assign(conversation=conversation, operator=operator)
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    services.conversation_reopen(conversation=conversation, actor=operator)

    assert emitted() == [
        ("conversation.updated", conversation.pk),
        ("conversation.resolved", conversation.pk),
        ("conversation.updated", conversation.pk),
    ]


def test_a_delivery_status_and_an_edit_update_the_message(conversation, channel, operator):
    reply = services.message_reply(conversation=conversation, author=operator, body="Hi!")
    reply.external_id, reply.status = "out-1", "sent"
    reply.save(update_fields=["external_id", "status"])
    WebhookDelivery.objects.all().delete()

    services.message_update_status(channel=channel, external_id="out-1", status="delivered")
    services.message_edit_inbound(channel=channel, external_id="in-1", text="Hello there")

    inbound = conversation.messages.get(external_id="in-1")
    assert emitted() == [("message.updated", reply.pk), ("message.updated", inbound.pk)]


def test_an_answered_survey_is_emitted_with_its_rating(conversation, operator):
    survey = CsatSurvey.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        channel=conversation.channel,
        operator=operator,
        status="sent",
        due_at=timezone.now(),
    )

    csat.csat_record_answer(survey=survey, rating=5, comment="Quick!")

    [delivery] = WebhookDelivery.objects.filter(event="survey.answered")
    data = json.loads(delivery.body)["data"]
    assert (data["id"], data["rating"], data["comment"]) == (survey.pk, 5, "Quick!")


def test_a_merge_emits_the_surviving_customer_and_the_conversations_moved(
    conversation, channel, operator
):
    duplicate = CustomerFactory(name="Vera (mail)")
    moved = ConversationFactory(channel=channel, customer=duplicate)

    services.customer_merge_with_conversations(
        survivor=conversation.customer, merged=duplicate, merged_by=operator
    )

    [merged] = WebhookDelivery.objects.filter(event="customer.merged")
    data = json.loads(merged.body)["data"]
    assert data["customer"]["id"] == conversation.customer_id
    assert data["merged_customer_id"] == duplicate.pk
    assert data["conversation_ids"] == [moved.pk]
    assert ("conversation.updated", moved.pk) in emitted()
