"""An automation rule run end to end: a customer's webhook, the rule's task queued through
the outbox to a real Celery worker over Redis, and its canned reply delivered, signed, to
the channel's callback."""

import json
import time

import pytest

from automation import rules
from inbox.models import (
    CannedResponse,
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
    PendingTask,
)
from inbox.rule_events import Trigger, watched_triggers
from inbox.sla.policies import policies_in_force
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload, sign
from tests.live.test_batched_receiving import fast_together

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise TimeoutError("the worker did not run the rule in time")


def test_a_rule_answers_a_new_conversation_through_the_worker(
    celery_worker, client, channel, callback_server
):
    channel.config = {**channel.config, "callback_url": callback_server.url}
    channel.save()
    welcome = CannedResponse.objects.create(
        shortcut="welcome", body="Hi! We got your message.", is_shared=True
    )
    rule = rules.rule_create(
        fields={
            "name": "Welcome",
            "trigger": Trigger.CONVERSATION_CREATED,
            "conditions": {"text_contains": ["hello"]},
            "actions": [
                {"type": "send_canned_reply", "canned_response": welcome.pk},
                {"type": "set_priority", "priority": "high"},
            ],
            "is_active": True,
        }
    )
    body = json.dumps(
        {"id": "live-1", "sender": {"id": "cust-1", "name": "Maria"}, "text": "Hello there"}
    ).encode()

    answer = client.post(
        f"/webhooks/api/{channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )

    assert answer.status_code == 200
    reply = wait_for(
        lambda: Message.objects.filter(
            direction=MessageDirection.OUTBOUND, status=MessageStatus.SENT
        ).first()
    )
    assert reply.body == "Hi! We got your message." and reply.author_id is None
    assert callback_server.requests[0].json()["text"] == "Hi! We got your message."
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert conversation.priority == "high"
    (run,) = rule.runs.all()
    assert [outcome["type"] for outcome in run.outcomes] == ["send_canned_reply", "set_priority"]
    assert run.error == ""


def test_a_rule_on_customers_messages_runs_for_what_the_batched_path_stores(
    celery_worker, client, channel
):
    for sender in ("olga", "nina"):
        post_webhook(client, channel, api_payload(message_id=f"first-{sender}", sender_id=sender))
    rule = rules.rule_create(
        fields={
            "name": "Urgent words",
            "trigger": Trigger.MESSAGE_CREATED,
            "conditions": {"text_contains": ["urgent"]},
            "actions": [{"type": "set_priority", "priority": "urgent"}],
            "is_active": True,
        }
    )
    watched_triggers()  # read again with the webhook's channel, every few seconds

    answers, _ = fast_together(
        channel,
        [
            (payload, None, "application/json")
            for payload in (
                api_payload(message_id="later-olga", sender_id="olga", text="Urgent: where is it?"),
                api_payload(message_id="later-nina", sender_id="nina", text="Thanks!"),
            )
        ],
    )

    assert None not in answers, "the batched path left a message to the regular path"
    urgent = wait_for(lambda: Conversation.objects.filter(priority="urgent").first())
    later_olga = Message.objects.get(external_id="later-olga")
    assert urgent.pk == later_olga.conversation_id
    wait_for(lambda: not PendingTask.objects.exists())
    assert [run.event_key for run in rule.runs.all()] == [f"message:{later_olga.pk}"]
    assert Conversation.objects.exclude(pk=urgent.pk).get().priority != "urgent"


def test_a_rule_on_new_conversations_runs_for_a_first_message_the_batched_path_stores(
    celery_worker, channel
):
    rule = rules.rule_create(
        fields={
            "name": "Every new conversation is high",
            "trigger": Trigger.CONVERSATION_CREATED,
            "actions": [{"type": "set_priority", "priority": "high"}],
            "is_active": True,
        }
    )
    # Read again with the webhook's channel, every few seconds.
    watched_triggers()
    policies_in_force()

    first = api_payload(message_id="first-vera", sender_id="vera")
    answers, _ = fast_together(channel, [(first, None, "application/json")])

    assert answers[0] is not None, "the batched path left the first message to the regular path"
    message = Message.objects.get(external_id="first-vera")
    conversation = wait_for(lambda: Conversation.objects.filter(priority="high").first())
    assert conversation.pk == message.conversation_id
    wait_for(lambda: not PendingTask.objects.exists())
    assert [run.event_key for run in rule.runs.all()] == [f"message:{message.pk}"]
