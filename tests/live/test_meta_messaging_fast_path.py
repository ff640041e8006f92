"""Messenger and Instagram on the batched fast path: a known customer's plain message is
stored there as the regular path stores it; a first message (whose sender's name the
regular path asks Meta for), echoes, watermarks, reads, button answers and files are left
to the regular path."""

import json
from datetime import UTC, datetime

import pytest

from inbox.models import Conversation, Message
from tests.channels_app.meta_messaging import (
    INSTAGRAM,
    MESSENGER,
    SignedMetaWebhooks,
    first_item,
    meta_config,
)
from tests.fakes.meta_messaging import FakeSendApi
from tests.helpers import channel_serving, sign
from tests.live.fast_path import through_the_fast_path

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

WRITTEN_AT = datetime(2026, 12, 7, 9, 30, 0, 250000, tzinfo=UTC)
ANOTHER_SENDER = "7000000000000001"


@pytest.fixture
def send_api():
    with FakeSendApi() as fake:
        yield fake


@pytest.fixture(params=[MESSENGER, INSTAGRAM], ids=lambda webhooks: webhooks.kind)
def webhooks(request) -> SignedMetaWebhooks:
    return request.param


@pytest.fixture
def account(team, send_api, webhooks):
    return channel_serving(
        team, kind=webhooks.kind, name="Account", config=meta_config(webhooks, send_api)
    )


def text(webhooks: SignedMetaWebhooks, mid: str, body: str = "Any news?", **changes) -> dict:
    payload = webhooks.fixture_json("text")
    item = first_item(payload)
    item["timestamp"] = int(WRITTEN_AT.timestamp() * 1000)
    item["message"].update(mid=mid, text=body)
    if "sender" in changes:
        item["sender"]["id"] = changes["sender"]
    return payload


def fast(channel, webhooks: SignedMetaWebhooks, payload: dict) -> dict | None:
    body = json.dumps(payload).encode()
    signature = sign(body, webhooks.app_secret)
    return through_the_fast_path(channel, body, {"x-hub-signature-256": signature})


def stored(mid: str) -> dict:
    message = Message.objects.select_related("conversation__customer").get(external_id=mid)
    conversation = message.conversation
    return {
        "conversation": message.conversation_id,
        "direction": message.direction,
        "status": message.status,
        "body": message.body,
        "sent_at": message.sent_at,
        "author": message.author_id,
        "sent_from": message.sent_from,
        "reaction": message.reaction,
        "deleted_at": message.deleted_at,
        "edited_at": message.edited_at,
        "attachments": message.attachments.count(),
        "conversation_status": conversation.status,
        "recipient_address": conversation.recipient_address,
        "identities": sorted(conversation.customer.identities.values_list("kind", "value")),
    }


def test_a_known_customers_message_is_stored_as_the_regular_path_stores_it(
    client, account, webhooks
):
    webhooks.post_payload(client, account, text(webhooks, "m_first", "Hi"))
    webhooks.post_payload(client, account, text(webhooks, "m_regular"))

    answer = fast(account, webhooks, text(webhooks, "m_fast"))

    assert answer is not None, "the fast path declined a known customer's message"
    message = Message.objects.get(external_id="m_fast")
    assert answer["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert stored("m_fast") == stored("m_regular")
    # Meta's own time, which the reply window counts from.
    assert message.sent_at == WRITTEN_AT
    assert Conversation.objects.get().last_inbound_at is not None


def test_a_repeated_delivery_is_a_duplicate_on_either_path(client, account, webhooks):
    webhooks.post_payload(client, account, text(webhooks, "m_first", "Hi"))
    webhooks.post_payload(client, account, text(webhooks, "m_twice"))

    fast(account, webhooks, text(webhooks, "m_twice"))

    assert list(Message.objects.values_list("external_id", flat=True).order_by("id")) == [
        "m_first",
        "m_twice",
    ]


def test_a_first_message_is_left_to_the_regular_path_which_asks_for_the_name(account, webhooks):
    assert fast(account, webhooks, text(webhooks, "m_new")) is None

    assert Message.objects.count() == 0


def test_a_first_message_of_another_sender_is_left_to_the_regular_path(client, account, webhooks):
    webhooks.post_payload(client, account, text(webhooks, "m_first", "Hi"))

    assert fast(account, webhooks, text(webhooks, "m_other", sender=ANOTHER_SENDER)) is None

    assert Message.objects.count() == 1


LEFT_TO_THE_REGULAR_PATH = [
    *[
        (MESSENGER, fixture)
        for fixture in ("echo_business_suite", "read", "delivery", "quick_reply", "image")
    ],
    (MESSENGER, "postback"),
    (MESSENGER, "reaction"),
    *[
        (INSTAGRAM, fixture)
        for fixture in ("echo", "read", "quick_reply", "image", "video", "reaction", "deleted")
    ],
]


@pytest.mark.parametrize(
    ("webhooks", "fixture"),
    LEFT_TO_THE_REGULAR_PATH,
    ids=[f"{webhooks.kind}-{fixture}" for webhooks, fixture in LEFT_TO_THE_REGULAR_PATH],
)
def test_echoes_reads_answers_files_and_reactions_are_left_to_the_regular_path(
    client, account, webhooks, fixture
):
    webhooks.post_payload(client, account, text(webhooks, "m_first", "Hi"))

    assert fast(account, webhooks, webhooks.fixture_json(fixture)) is None

    assert list(Message.objects.values_list("external_id", "body")) == [("m_first", "Hi")]
