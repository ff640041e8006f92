"""Errors answered before any view runs (the ASGI edge's and the first middleware's 413)
are in the JSON error shape and in the language the request asks for."""

import json

import pytest
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from channels_app.webhook_edge import RequestBodyLimit
from config.request_limits import public_body_limit

pytestmark = pytest.mark.django_db

DETAILS = {
    "en": "The body is over 1048576 bytes.",
    "ru": "Тело запроса больше 1048576 байт.",
    "pl": "Treść żądania przekracza 1048576 bajtów.",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["en", "ru", "pl"])
async def test_the_asgi_edge_refuses_a_large_body_in_the_readers_language(settings, language):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
    edge = RequestBodyLimit(get_asgi_application(), limit_for=public_body_limit)
    communicator = HttpCommunicator(
        edge,
        "POST",
        "/webhooks/api/00000000-0000-0000-0000-000000000000/",
        body=b"x",
        headers=[
            (b"content-length", str(2 * 1024 * 1024).encode()),
            (b"accept-language", f"{language},en;q=0.5".encode()),
        ],
    )

    response = await communicator.get_response()

    assert response["status"] == 413
    headers = dict(response["headers"])
    assert headers[b"content-language"] == language.encode()
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(response["body"]) == {"error": "too_large", "detail": DETAILS[language]}


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_wsgi_body_limit_answers_in_the_readers_language(client, settings, language):
    settings.REQUEST_MAX_BODY_BYTES = 1024 * 1024

    response = client.post(
        "/api/v1/customers/",
        data=b"x" * (2 * 1024 * 1024),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 413
    assert response["Content-Language"] == language
    assert response.json() == {"error": "too_large", "detail": DETAILS[language]}
