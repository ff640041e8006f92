"""The webhook fast path stores what the regular path would, and declines everything else."""

import asyncio
import contextlib
import hashlib
import json
import time

import httpx
import pytest
from channels.layers import get_channel_layer
from django.forms.models import model_to_dict

from channels_app import fast_ingest
from channels_app.contracts import WebhookRequest
from channels_app.models import WebhookEvent
from channels_app.services import channel_get_active
from customers.models import Identity
from inbox import realtime
from inbox.models import Conversation, Message
from inbox.services import conversation_resolve
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload, sign
from tests.live.test_live_server import events_until, websocket

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def fast(
    channel, body: bytes, signature: str | None = None, content_type: str = "application/json"
):
    answer, _ = fast_and_broadcast(channel, body, signature, content_type)
    return answer


def fast_and_broadcast(
    channel, body: bytes, signature: str | None = None, content_type: str = "application/json"
) -> tuple[dict | None, list[dict]]:
    """The fast path's answer, and what it broadcast to supervisors meanwhile."""

    async def attempt():
        layer = get_channel_layer()
        listener = await layer.new_channel()
        await layer.group_add(realtime.ALL_CONVERSATIONS_GROUP, listener)
        try:
            answer = await fast_ingest.receive_known_sender(
                kind=channel.kind,
                public_id=str(channel.public_id),
                request=WebhookRequest(
                    body=body,
                    headers={
                        "x-switchboard-signature": signature or sign(body),
                        "content-type": content_type,
                    },
                ),
            )
            broadcasts = []
            with contextlib.suppress(TimeoutError):
                while True:
                    event = await asyncio.wait_for(layer.receive(listener), timeout=0.5)
                    broadcasts.append(json.loads(event["text"]))
            return answer, broadcasts
        finally:
            await layer.group_discard(realtime.ALL_CONVERSATIONS_GROUP, listener)
            if fast_ingest._pool is not None:
                await fast_ingest._pool.close()
                fast_ingest._pool = None

    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))
    return asyncio.run(attempt())


@pytest.fixture
def known_sender(client, channel):
    post_webhook(client, channel, api_payload(message_id="first", email="maria@example.com"))
    return Conversation.objects.get()


def test_a_known_sender_in_an_open_conversation_takes_the_fast_path(channel, known_sender):
    body = api_payload(message_id="second", text="Any news?", email="maria@example.com")

    answer = fast(channel, body)

    message = Message.objects.get(external_id="second")
    assert answer == {
        "status": "ok",
        "messages": [{"id": message.pk, "conversation_id": known_sender.pk, "duplicate": False}],
    }
    assert (message.conversation_id, message.body, message.direction, message.status) == (
        known_sender.pk,
        "Any news?",
        "in",
        "received",
    )
    refreshed = Conversation.objects.get()
    assert refreshed.last_message_at > known_sender.last_message_at
    assert refreshed.last_inbound_at == refreshed.last_message_at
    assert WebhookEvent.objects.get(body_sha256__isnull=False, body=body).status == "processed"


@pytest.mark.parametrize(
    "case",
    ["new identity", "duplicate", "attachment", "bad signature", "resolved", "new email", "name"],
)
def test_anything_else_is_left_to_the_regular_path(channel, known_sender, operator, case):
    body = api_payload(message_id="other", email="maria@example.com")
    signature = None
    if case == "new identity":
        # Maria, known by her email, writes with an API id we have not seen.
        body = api_payload(message_id="other", sender_id="someone-new", email="maria@example.com")
    elif case == "duplicate":
        body = api_payload(message_id="first", email="maria@example.com")
    elif case == "attachment":
        payload = json.loads(body)
        payload["attachments"] = [{"url": "https://cdn.example.com/a.png"}]
        body = json.dumps(payload).encode()
    elif case == "bad signature":
        signature = sign(b"something else")
    elif case == "resolved":
        conversation_resolve(conversation=known_sender, resolved_by=operator)
    elif case == "new email":
        body = api_payload(message_id="other", email="maria.new@example.com")
    elif case == "name":
        known_sender.customer.__class__.objects.update(name="")
    before = Message.objects.count()
    events_before = WebhookEvent.objects.count()
    last_message_at = Conversation.objects.get(pk=known_sender.pk).last_message_at

    assert fast(channel, body, signature) is None
    # Declining leaves no trace: the regular path then does (or refuses) all of it.
    assert Message.objects.count() == before
    assert Conversation.objects.get(pk=known_sender.pk).last_message_at == last_message_at
    assert WebhookEvent.objects.count() == events_before


def test_many_messages_over_the_wire_all_arrive_once_and_live(
    live_server_url, channel, operator, known_sender
):
    url = f"{live_server_url}/webhooks/api/{channel.public_id}/"
    with websocket(live_server_url, operator) as socket, httpx.Client() as http:
        for index in range(20):
            body = api_payload(message_id=f"burst-{index}", text=f"message {index}",
                               email="maria@example.com")  # fmt: skip
            response = http.post(
                url,
                content=body,
                headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
            )
            assert response.status_code == 200, response.text
            assert response.json()["messages"][0]["conversation_id"] == known_sender.pk
        again = http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
        )
        assert again.json()["messages"][0]["duplicate"] is True
        bodies = set()
        deadline = time.monotonic() + 10
        while len(bodies) < 20 and time.monotonic() < deadline:
            bodies.add(events_until(socket, "message.created")["message"]["body"])

    assert bodies == {f"message {index}" for index in range(20)}
    assert Message.objects.filter(external_id__startswith="burst-").count() == 20
    assert Conversation.objects.count() == 1


def test_email_is_left_to_the_regular_path_which_threads_it(client, channel):
    email_channel = channel.__class__.objects.create(
        kind="email", name="Mail", config={"address": "help@example.com"}
    )
    email_channel.set_secrets({"secret": "mail-secret"})
    email_channel.save()
    first = (
        b"From: maria@example.com\r\nTo: help@example.com\r\nSubject: A\r\n"
        b"Message-ID: <a-1@example.com>\r\n\r\nFirst question\r\n"
    )
    client.post(
        f"/webhooks/email/{email_channel.public_id}/",
        data=first,
        content_type="message/rfc822",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(first, "mail-secret"),
    )
    second = first.replace(b"<a-1@", b"<a-2@").replace(b"First", b"Unrelated")

    answer = fast(email_channel, second, sign(second, "mail-secret"), content_type="message/rfc822")

    assert answer is None
    assert Message.objects.filter(channel=email_channel).count() == 1


def stored_shape(conversation: Conversation, body: bytes) -> dict:
    """What was stored for a first message, without ids, times and the sender's own data."""
    sender_specific = {"id", "customer", "name", "email", "recipient_address", "external_id"}
    sender_specific |= {"body", "conversation", "sent_at", "last_message_at", "last_inbound_at"}

    def fields(instance) -> dict:
        return {k: v for k, v in model_to_dict(instance).items() if k not in sender_specific}

    customer = conversation.customer
    message = conversation.messages.get()
    return {
        "customer": fields(customer),
        "identity kinds": sorted(customer.identities.values_list("kind", "is_reachable")),
        "conversation": fields(conversation),
        "bumped": conversation.last_message_at is not None
        and conversation.last_message_at == conversation.last_inbound_at,
        "message": fields(message),
        "raw event": list(
            WebhookEvent.objects.filter(body_sha256=hashlib.sha256(body).hexdigest()).values_list(
                "status", "error", "attempts"
            )
        ),
    }


def test_a_new_senders_first_message_is_stored_as_the_regular_path_stores_it(client, channel):
    regular_body = api_payload(
        message_id="r-1", sender_id="olga-1", name="Olga", text="Hi", email="olga@example.com"
    )
    post_webhook(client, channel, regular_body)
    regular = stored_shape(Conversation.objects.get(), regular_body)
    fast_body = api_payload(
        message_id="f-1", sender_id="nina-1", name="Nina", text="Hi", email="Nina@Example.com"
    )

    answer, broadcasts = fast_and_broadcast(channel, fast_body)

    assert answer is not None, "the fast path declined a new sender"
    conversation = Conversation.objects.get(customer__name="Nina")
    assert answer["messages"] == [
        {"id": conversation.messages.get().pk, "conversation_id": conversation.pk,
         "duplicate": False}
    ]  # fmt: skip
    assert stored_shape(conversation, fast_body) == regular
    assert conversation.customer.email == "nina@example.com"
    assert set(conversation.customer.identities.values_list("kind", "value")) == {
        ("api", f"{channel.public_id}:nina-1"),
        ("email", "nina@example.com"),
    }
    assert conversation.recipient_address == "nina-1"
    assert conversation.team == channel.teams.get()
    # The same events as the regular path, in the same order.
    assert [event["type"] for event in broadcasts] == ["message.created", "conversation.created"]
    assert broadcasts[1]["conversation"]["customer"] == {
        "id": conversation.customer_id,
        "name": "Nina",
    }
    assert broadcasts[1]["conversation"]["team"]["id"] == conversation.team_id


def test_a_first_message_that_collides_changes_nothing_and_is_left_to_the_regular_path(
    client, channel
):
    body = api_payload(message_id="dup-1", sender_id="nina-1", name="Nina", email="n@example.com")
    post_webhook(client, channel, body)
    # The same message id again, now from a sender nobody knows: the insert collides.
    other = api_payload(message_id="dup-1", sender_id="zoe-1", name="Zoe", email="z@example.com")
    counts = (Message.objects.count(), Conversation.objects.count(), WebhookEvent.objects.count())

    assert fast(channel, other) is None
    assert not Conversation.objects.filter(customer__name="Zoe").exists()
    assert (
        Message.objects.count(),
        Conversation.objects.count(),
        WebhookEvent.objects.count(),
    ) == counts
    assert not Identity.objects.filter(value="zoe-1").exists()
