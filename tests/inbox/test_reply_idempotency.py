"""`POST conversations/<id>/messages/` with an `Idempotency-Key`: the same reply sent again
(a double click, a retry after a timeout) is stored and sent once, and answered as the
first time."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from channels_app.contracts import DELIVER_MESSAGE_TASK
from inbox.models import Message, ReplyIdempotencyKey
from tests.channels_app.telegram import conftest as telegram_fixtures
from tests.conftest import client_for
from tests.factories import ConversationFactory, UserFactory

enqueued_tasks = telegram_fixtures.enqueued_tasks


@pytest.fixture
def conversation(channel):
    return ConversationFactory(channel=channel, recipient_address="u-42")


def post_reply(client, conversation, body="It ships tomorrow.", *, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": body, **extra},
        format="json",
        **headers,
    )


def deliveries(enqueued_tasks) -> list:
    return [args for name, args in enqueued_tasks if name == DELIVER_MESSAGE_TASK]


@pytest.mark.django_db
def test_the_same_key_twice_answers_the_first_reply_and_sends_once(
    operator_client, conversation, enqueued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_reply(operator_client, conversation, key="reply-1")
    with django_capture_on_commit_callbacks(execute=True):
        again = post_reply(operator_client, conversation, key="reply-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert deliveries(enqueued_tasks) == [[first.json()["id"]]]


@pytest.mark.django_db
def test_without_a_key_each_request_is_a_reply_of_its_own(operator_client, conversation):
    post_reply(operator_client, conversation)
    post_reply(operator_client, conversation)

    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.django_db
def test_a_key_reused_for_another_reply_is_refused(operator_client, conversation):
    post_reply(operator_client, conversation, "First", key="reply-1")

    response = post_reply(operator_client, conversation, "Something else", key="reply-1")

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert Message.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db
def test_a_key_reused_on_another_conversation_is_refused(operator_client, conversation, channel):
    other = ConversationFactory(channel=channel, recipient_address="u-43")
    post_reply(operator_client, conversation, key="reply-1")

    response = post_reply(operator_client, other, key="reply-1")

    assert response.status_code == 422
    assert not Message.objects.filter(conversation=other).exists()


@pytest.mark.django_db
def test_keys_are_per_operator(operator_client, conversation, team):
    colleague = UserFactory(username="ben", teams=[team])
    post_reply(operator_client, conversation, key="reply-1")

    response = post_reply(client_for(colleague), conversation, key="reply-1")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.django_db
def test_a_key_older_than_a_day_starts_a_new_reply(operator_client, conversation):
    first = post_reply(operator_client, conversation, key="reply-1")
    ReplyIdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = post_reply(operator_client, conversation, key="reply-1")

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.django_db
def test_a_refused_reply_leaves_its_key_free(operator_client, conversation):
    refused = post_reply(operator_client, conversation, "   ", key="reply-1")
    assert refused.status_code == 400

    accepted = post_reply(operator_client, conversation, "   ", key="reply-1")

    assert accepted.status_code == 400
    assert not ReplyIdempotencyKey.objects.exists()
    assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "line\nbreak"])
def test_a_malformed_key_is_a_400(operator_client, conversation, key):
    response = post_reply(operator_client, conversation, key=key)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db
def test_a_reply_with_files_is_sent_once_per_key(operator_client, conversation):
    def post(content: bytes):
        return operator_client.post(
            f"/api/v1/conversations/{conversation.pk}/messages/",
            {"body": "", "files": [SimpleUploadedFile("a.txt", content, "text/plain")]},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="files-1",
        )

    first = post(b"hello")
    again = post(b"hello")
    other = post(b"other")

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    assert Message.objects.filter(conversation=conversation).count() == 1


# PostgreSQL: SQLite's shared in-memory test database locks whole tables instead.
@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_the_same_key_make_one_message(operator, conversation):
    copies = 4
    start = threading.Barrier(copies)
    answers: list = []

    def send() -> None:
        try:
            start.wait()
            response = post_reply(client_for(operator), conversation, key="double-click")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [status for status, _ in answers] == [201] * copies
    assert len({body["id"] for _, body in answers}) == 1
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_the_schema_names_the_header(operator_client, db):
    schema = operator_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    reply = schema["paths"]["/api/v1/conversations/{conversation_id}/messages/"]["post"]

    [header] = [p for p in reply["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert "422" in reply["responses"]
