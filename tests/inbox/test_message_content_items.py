"""What a message carried besides text and files (a reaction, a sticker, a kind the
platform would not show us) is stored as data and read in each reader's language: on the
operator's pages, in the inbox list, in the API and in live events."""

import pytest

from channels_app.contracts import (
    ContentItem,
    ContentItemKind,
    InboundIdentity,
    InboundMessage,
)
from inbox import realtime
from inbox.models import Message
from inbox.personal_data.erasure import conversations_content_erase
from inbox.services import message_receive
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import inbox_page_data

pytestmark = pytest.mark.django_db


def receive_reaction(channel) -> Message:
    outcome = message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id="reaction-1",
            recipient_address="u-1",
            identities=(InboundIdentity("api", "u-1"),),
            content_items=(ContentItem(ContentItemKind.REACTION, {"emoji": "👍"}),),
        ),
    )
    return Message.objects.get(pk=outcome.message.pk)


def test_a_reaction_is_stored_as_data_not_as_english_words(channel):
    message = receive_reaction(channel)

    assert message.body == ""
    assert message.content_items == [{"kind": "reaction", "data": {"emoji": "👍"}}]


@pytest.mark.parametrize(
    ("language", "line"),
    [("en", "Reacted 👍"), ("ru", "Реакция 👍"), ("pl", "Reakcja 👍")],
)
def test_the_operator_reads_the_reaction_in_their_language(
    client, operator, channel, language, line
):
    message = receive_reaction(channel)
    operator.language = language
    operator.save()
    client.force_login(operator)

    thread = client.get(f"/inbox/conversations/{message.conversation_id}/").json()
    listed = inbox_page_data(client.get("/").content)["items"]

    assert f'<div class="message-body message-item">{line}</div>' in thread["thread_html"]
    assert [item["preview"] for item in listed] == [line]


@pytest.mark.parametrize(("language", "line"), [("en", "Reacted 👍"), ("ru", "Реакция 👍")])
def test_the_api_gives_the_data_and_a_line_in_the_readers_language(
    operator_client, channel, language, line
):
    message = receive_reaction(channel)

    answer = operator_client.get(
        f"/api/v1/conversations/{message.conversation_id}/messages/",
        HTTP_ACCEPT_LANGUAGE=language,
    ).json()

    [item] = answer["results"][0]["content_items"]
    assert item == {"kind": "reaction", "data": {"emoji": "👍"}, "text": line}


def test_a_live_event_is_worded_for_each_operators_language(channel):
    message = receive_reaction(channel)

    _groups, payload = realtime.message_created_event(message, channel_id=channel.pk)

    texts = {
        language: worded["message"]["content_items"][0]["text"]
        for language, worded in payload.by_language.items()
    }
    assert texts == {"en": "Reacted 👍", "ru": "Реакция 👍", "pl": "Reakcja 👍"}


def test_a_message_without_items_is_one_event_for_every_language(channel):
    message = MessageFactory(conversation=ConversationFactory(channel=channel), body="Привет")

    _groups, payload = realtime.message_created_event(message, channel_id=channel.pk)

    assert not isinstance(payload, realtime.InLanguages)
    assert payload["message"]["content_items"] == []


def test_a_message_stored_by_an_earlier_version_still_reads_as_it_was_stored(
    client, operator, channel
):
    # Earlier versions wrote such lines in English into the body.
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="[unsupported message type: poll_creation]")
    operator.language = "ru"
    operator.save()
    client.force_login(operator)

    thread = client.get(f"/inbox/conversations/{conversation.pk}/").json()["thread_html"]

    assert "[unsupported message type: poll_creation]" in thread


def test_erasing_a_conversation_removes_its_content_items(channel):
    message = receive_reaction(channel)

    conversations_content_erase(conversation_ids=[message.conversation_id])

    message.refresh_from_db()
    assert message.content_items == []
