"""The webhook fast path stores what the regular path would, and declines everything else."""

import asyncio
import json
import time

import httpx
import pytest

from channels_app import fast_ingest
from channels_app.contracts import WebhookRequest
from channels_app.models import WebhookEvent
from channels_app.services import channel_get_active
from inbox.models import Conversation, Message
from inbox.services import conversation_resolve
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload, sign
from tests.live.test_live_server import events_until, websocket

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def fast(
    channel, body: bytes, signature: str | None = None, content_type: str = "application/json"
):
    async def attempt():
        try:
            return await fast_ingest.receive_known_sender(
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
        finally:
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
    ["new sender", "duplicate", "attachment", "bad signature", "resolved", "new email", "name"],
)
def test_anything_else_is_left_to_the_regular_path(channel, known_sender, operator, case):
    body = api_payload(message_id="other", email="maria@example.com")
    signature = None
    if case == "new sender":
        body = api_payload(message_id="other", sender_id="someone-new")
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
