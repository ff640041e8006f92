"""The API's own error details in the reader's language: the operator's choice for the
inbox's scripts (session), Accept-Language for token clients. The machine-readable
`error` codes stay the same in every language."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ConversationFactory, CustomerFactory, LabelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, operator):
    def as_operator_in(language: str):
        operator.language = language
        operator.save()
        client.force_login(operator)
        return client

    return as_operator_in


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("en", "No such conversation."),
        ("ru", "Такого диалога нет."),
        ("pl", "Nie ma takiej rozmowy."),
    ],
)
def test_a_missing_conversation_is_named_in_the_operators_language(signed_in, language, detail):
    response = signed_in(language).get("/api/v1/conversations/999999/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": detail}


def test_an_unknown_api_path_is_not_found_in_the_readers_language(operator_client):
    response = operator_client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="pl")

    assert response.json() == {"error": "not_found", "detail": "Nie znaleziono."}


def test_refused_labels_say_why_in_russian(signed_in, channel):
    client = signed_in("ru")
    conversation = ConversationFactory(channel=channel)
    LabelFactory(name="VIP")

    unknown = client.post(
        f"/api/v1/conversations/{conversation.pk}/labels/",
        {"labels": [424242]},
        content_type="application/json",
    )
    taken = client.post("/api/v1/labels/", {"name": "VIP"}, content_type="application/json")

    assert unknown.json()["error"] == "invalid"
    assert unknown.json()["fields"] == {"labels": ["нет метки с id 424242"]}
    # Only supervisors add labels: the refusal says so in Russian too.
    assert taken.status_code == 403
    assert taken.json()["error"] == "permission_denied"
    assert taken.json()["detail"] == "Менять это могут только руководители и администраторы."


def test_a_refused_file_is_named_in_polish(signed_in, channel):
    client = signed_in("pl")
    conversation = ConversationFactory(channel=channel)
    program = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")

    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "Proszę", "files": [program]},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["detail"] == "setup.exe: nie można wysyłać plików wykonywalnych"


def test_a_merge_refusal_follows_the_token_clients_accept_language(supervisor_client):
    customer = CustomerFactory(name="Maria")

    response = supervisor_client.post(
        f"/api/v1/customers/{customer.pk}/merge/",
        {"other": customer.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["fields"]["other"] == ["клиента нельзя объединить с самим собой"]


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("en", "the conversation is already resolved"),
        ("ru", "диалог уже решён"),
        ("pl", "rozmowa jest już rozwiązana"),
    ],
)
def test_a_refused_conversation_action_says_why_in_the_operators_language(
    signed_in, channel, language, detail
):
    from inbox.models import ConversationStatus

    conversation = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)

    response = signed_in(language).post(f"/api/v1/conversations/{conversation.pk}/resolve/")

    assert response.status_code == 400
    assert detail in str(response.json())
