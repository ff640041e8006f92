"""What Messenger and Instagram say later about a message: a reaction, shown on the message
it names (ours or the customer's) and taken back by an unreact; a message the customer
deleted, kept and shown as deleted."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile

from inbox.models import Attachment, Conversation, Message
from tests.channels_app.meta_messaging import (
    INSTAGRAM,
    MESSENGER,
    SignedMetaWebhooks,
    first_item,
)
from tests.factories import MessageFactory
from tests.helpers import stored_counts
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = pytest.mark.django_db

# The message each kind's reaction fixture reacts to.
REACTED_MID = {"messenger": "m_ours1", "instagram": "aWdfours1"}


@pytest.fixture(params=[MESSENGER, INSTAGRAM], ids=lambda webhooks: webhooks.kind)
def webhooks(request) -> SignedMetaWebhooks:
    return request.param


@pytest.fixture
def account(request, webhooks):
    return request.getfixturevalue(f"{webhooks.kind}_channel")


@pytest.fixture
def our_reply(client, account, webhooks) -> Message:
    """The customer wrote, and we answered: the reply the reaction fixture names."""
    webhooks.post_fixture(client, account, "text")
    return MessageFactory(
        conversation=Conversation.objects.get(),
        direction="out",
        status="sent",
        body="It ships tomorrow.",
        external_id=REACTED_MID[webhooks.kind],
    )


def reaction(webhooks: SignedMetaWebhooks, **changes) -> dict:
    payload = webhooks.fixture_json("reaction")
    first_item(payload)["reaction"].update(changes)
    return payload


# Reactions


def test_a_reaction_is_shown_on_the_message_it_names_and_adds_none(
    client, account, webhooks, our_reply, operator_client
):
    counts = stored_counts()[:3]

    webhooks.post_fixture(client, account, "reaction")

    our_reply.refresh_from_db()
    assert our_reply.reaction == "❤️"
    assert stored_counts()[:3] == counts
    conversation = our_reply.conversation
    messages = operator_client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
    reactions = {item["external_id"]: item["reaction"] for item in messages["results"]}
    assert reactions[our_reply.external_id] == "❤️"
    assert set(reactions.values()) == {"❤️", ""}


def test_the_thread_shows_the_reaction_on_the_message(
    client, account, webhooks, our_reply, operator
):
    webhooks.post_fixture(client, account, "reaction")
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{our_reply.conversation_id}/").json()

    reply_html = pane["thread_html"].split(f'id="message-{our_reply.pk}"')[1].split("</li>")[0]
    assert '<span class="message-reaction" role="img"' in reply_html
    assert 'aria-label="The customer reacted ❤️"' in reply_html


def test_an_unreact_takes_the_reaction_back(client, account, webhooks, our_reply):
    webhooks.post_fixture(client, account, "reaction")

    webhooks.post_payload(client, account, reaction(webhooks, action="unreact", emoji=None))

    our_reply.refresh_from_db()
    assert our_reply.reaction == ""


def test_a_new_reaction_replaces_the_earlier_one(client, account, webhooks, our_reply):
    webhooks.post_fixture(client, account, "reaction")

    webhooks.post_payload(client, account, reaction(webhooks, emoji="😮", reaction="wow"))

    our_reply.refresh_from_db()
    assert our_reply.reaction == "😮"


def test_a_reaction_without_its_emoji_is_shown_by_its_name(client, account, webhooks, our_reply):
    payload = reaction(webhooks, reaction="sad")
    del first_item(payload)["reaction"]["emoji"]

    webhooks.post_payload(client, account, payload)

    our_reply.refresh_from_db()
    assert our_reply.reaction == "😢"


def test_a_reaction_to_the_customers_own_message_is_shown_on_it(client, account, webhooks):
    webhooks.post_fixture(client, account, "text")
    theirs = Message.objects.get()

    webhooks.post_payload(client, account, reaction(webhooks, mid=theirs.external_id))

    theirs.refresh_from_db()
    assert theirs.reaction == "❤️"


def test_a_reaction_to_a_message_we_do_not_know_stores_nothing(client, account, webhooks):
    webhooks.post_fixture(client, account, "text")
    counts = stored_counts()[:3]

    response = webhooks.post_fixture(client, account, "reaction")

    assert response.status_code == 200
    assert stored_counts()[:3] == counts
    assert list(Message.objects.exclude(reaction="")) == []


def test_a_repeated_reaction_changes_nothing(client, account, webhooks, our_reply):
    webhooks.post_fixture(client, account, "reaction")
    our_reply.refresh_from_db()
    updated_at = our_reply.updated_at

    webhooks.post_payload(client, account, reaction(webhooks))

    our_reply.refresh_from_db()
    assert (our_reply.reaction, our_reply.updated_at) == ("❤️", updated_at)


@pytest.mark.django_db(transaction=True)
def test_operators_see_the_reaction_arrive_live(client, account, webhooks, our_reply, operator):
    async def watch() -> dict:
        socket = await connect(operator)
        await sync_to_async(webhooks.post_fixture)(client, account, "reaction")
        try:
            return await next_event_of_type(socket, "message.updated")
        finally:
            await socket.disconnect()

    event = asyncio.run(watch())

    assert event["message"]["id"] == our_reply.pk
    assert event["message"]["reaction"] == "❤️"


# Deletions (Instagram's is_deleted)


@pytest.fixture
def deleted_on_instagram(
    client, instagram_channel, media_root, django_capture_on_commit_callbacks
) -> Message:
    """The customer's text, with a file we fetched, and then their deletion of it."""
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    message = Message.objects.get()
    attachment = Attachment.objects.create(message=message, filename="photo.jpg", size=3)
    attachment.file.save("photo.jpg", ContentFile(b"jpg"))
    with django_capture_on_commit_callbacks(execute=True):
        INSTAGRAM.post_fixture(client, instagram_channel, "deleted")
    message.refresh_from_db()
    return message


def test_a_deleted_message_stays_marked_deleted_without_its_text_or_files(
    deleted_on_instagram, media_root
):
    message = deleted_on_instagram

    assert message.deleted_at is not None
    assert message.body == ""
    assert not message.attachments.exists()
    assert list(media_root.rglob("*.jpg")) == []
    assert Message.objects.count() == 1


def test_the_api_says_the_message_was_deleted(deleted_on_instagram, operator_client):
    message = deleted_on_instagram

    url = f"/api/v1/conversations/{message.conversation_id}/messages/"
    [shown] = operator_client.get(url).json()["results"]

    assert shown["id"] == message.pk
    assert shown["deleted_at"] is not None
    assert (shown["body"], shown["attachments"]) == ("", [])


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The customer deleted this message"),
        ("ru", "Клиент удалил это сообщение"),
        ("pl", "Klient usunął tę wiadomość"),
    ],
)
def test_the_thread_shows_the_message_as_deleted(
    client, deleted_on_instagram, operator, language, text
):
    operator.language = language
    operator.save(update_fields=["language"])
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{deleted_on_instagram.conversation_id}/").json()

    assert f'<div class="message-body message-deleted">{text}</div>' in pane["thread_html"]


def test_a_repeated_deletion_changes_nothing(client, instagram_channel, deleted_on_instagram):
    deleted_at = deleted_on_instagram.deleted_at

    INSTAGRAM.post_fixture(client, instagram_channel, "deleted")

    deleted_on_instagram.refresh_from_db()
    assert deleted_on_instagram.deleted_at == deleted_at


def test_a_deletion_never_touches_our_own_messages(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    ours = MessageFactory(
        conversation=Conversation.objects.get(),
        direction="out",
        status="sent",
        body="Thanks!",
        external_id=first_item(INSTAGRAM.fixture_json("deleted"))["message"]["mid"] + "x",
    )
    payload = INSTAGRAM.fixture_json("deleted")
    first_item(payload)["message"]["mid"] = ours.external_id

    INSTAGRAM.post_payload(client, instagram_channel, payload)

    ours.refresh_from_db()
    assert (ours.body, ours.deleted_at) == ("Thanks!", None)
