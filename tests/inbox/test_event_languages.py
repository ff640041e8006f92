"""A conversation's event lines ("Anna resolved this") in each reader's language: on the
page, in the API and over every operator's own websocket."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.models import ConversationEvent, ConversationEventKind
from inbox.services import conversation_resolve
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory, UserFactory
from tests.inbox.test_inbox_consumer import next_event_of_type, token_header

RESOLVED_BY_ANNA = {
    "en": "Anna resolved this",
    "ru": "Anna: диалог решён",
    "pl": "Anna: rozwiązano rozmowę",
}


@pytest.fixture
def conversation(channel):
    conversation = ConversationFactory(channel=channel, customer=CustomerFactory(name="Maria"))
    MessageFactory(conversation=conversation, body="Где мой заказ?")
    return conversation


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_the_api_words_events_in_the_requests_language(operator_client, conversation, language):
    operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/resolve/", HTTP_ACCEPT_LANGUAGE="en"
    )

    response = operator_client.get(
        f"/api/v1/conversations/{conversation.pk}/events/", HTTP_ACCEPT_LANGUAGE=language
    )

    assert [event["text"] for event in response.json()["results"]] == [RESOLVED_BY_ANNA[language]]
    # The stored facts stay as they were: only the wording follows the reader.
    assert ConversationEvent.objects.get().data == {}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_thread_shows_event_lines_in_the_operators_own_language(
    client, operator, conversation, language
):
    conversation_resolve(conversation=conversation, resolved_by=operator)
    reader = UserFactory(username="reader", role="supervisor", language=language)
    client.force_login(reader)

    pane = client.get(f"/inbox/conversations/{conversation.pk}/").json()

    assert RESOLVED_BY_ANNA[language] in pane["thread_html"]
    assert "resolved this" not in pane["thread_html"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("added", "removed", "english", "russian", "polish"),
    [
        (
            ["VIP"],
            [],
            "Anna added the label VIP",
            "Anna: добавлена метка VIP",
            "Anna: dodano etykietę VIP",
        ),
        (
            ["VIP", "Refund"],
            ["Spam"],
            "Anna added the labels VIP, Refund and removed the label Spam",
            "Anna: добавлены метки VIP, Refund, снята метка Spam",
            "Anna: dodano etykiety VIP, Refund i usunięto etykietę Spam",
        ),
        (
            [],
            ["VIP", "Spam"],
            "Anna removed the labels VIP, Spam",
            "Anna: сняты метки VIP, Spam",
            "Anna: usunięto etykiety VIP, Spam",
        ),
    ],
)
def test_label_lines_say_label_or_labels_by_how_many_are_named(
    operator_client, operator, conversation, added, removed, english, russian, polish
):
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=ConversationEventKind.LABELS_CHANGED,
        actor=operator,
        data={"added": added, "removed": removed},
    )
    url = f"/api/v1/conversations/{conversation.pk}/events/"

    texts = {
        language: operator_client.get(url, HTTP_ACCEPT_LANGUAGE=language).json()["results"][0][
            "text"
        ]
        for language in ("en", "ru", "pl")
    }

    assert texts == {"en": english, "ru": russian, "pl": polish}


async def connect(user, accept_language: str) -> WebsocketCommunicator:
    headers = await sync_to_async(token_header)(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/inbox/",
        headers=[*headers, (b"accept-language", accept_language.encode())],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_each_operator_socket_gets_the_event_line_in_its_operators_language(
    operator, team, conversation
):
    boris = await sync_to_async(UserFactory)(username="boris", language="ru", teams=[team])
    piotr = await sync_to_async(UserFactory)(username="piotr", teams=[team])
    # Boris chose Russian; Piotr chose nothing and his browser asks for Polish; Anna's
    # browser asks for English.
    sockets = {
        "ru": await connect(boris, "en-US,en;q=0.9"),
        "pl": await connect(piotr, "pl-PL,pl;q=0.9,en;q=0.5"),
        "en": await connect(operator, "en-GB"),
    }

    await sync_to_async(conversation_resolve)(conversation=conversation, resolved_by=operator)

    for language, socket in sockets.items():
        event = await next_event_of_type(socket, "conversation.event")
        assert event["event"]["text"] == RESOLVED_BY_ANNA[language]
        assert event["event"]["kind"] == "resolved"
        await socket.disconnect()
