"""The webhook fast path keeps a customer's language as the regular path does."""

import json

import pytest
from django.utils import timezone

from channels_app.services import channel_create
from customers.models import Customer
from inbox.models import Message
from tests.live.fast_path import through_the_fast_path

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SECRET = "hook"


@pytest.fixture
def bot(db):
    config = {
        "bot_token": "123:ABC",
        "webhook_secret": SECRET,
        "api_base_url": "http://127.0.0.1:9",
    }
    return channel_create(kind="telegram", name="Bot", config=config)


def update(update_id: int, user_id: int, language_code: str | None) -> bytes:
    sender = {"id": user_id, "is_bot": False, "first_name": "Olga"}
    if language_code:
        sender["language_code"] = language_code
    message = {
        "message_id": update_id,
        "from": sender,
        "chat": {"id": user_id, "type": "private"},
        "date": int(timezone.now().timestamp()),
        "text": f"message {update_id}",
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def fast(channel, body: bytes) -> dict | None:
    return through_the_fast_path(channel, body, {"x-telegram-bot-api-secret-token": SECRET})


def test_a_new_senders_language_is_stored_with_them(bot):
    answer = fast(bot, update(1, 701, "ru-RU"))

    assert answer is not None, "the fast path declined a new sender"
    assert Customer.objects.get().language == "ru"


def test_a_known_sender_whose_language_is_news_is_left_to_the_regular_path(bot):
    assert fast(bot, update(1, 702, None)) is not None
    assert Customer.objects.get().language == ""

    # The regular path fills the blank; the fast path would store the message without it.
    assert fast(bot, update(2, 702, "pl")) is None
    assert fast(bot, update(3, 702, "de")) is not None  # not one the product speaks
    assert Message.objects.count() == 2
