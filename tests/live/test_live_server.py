"""A websocket client on a live ASGI server (channels-redis between its workers) sees
what a webhook posted over HTTP stored; an operator of another team sees nothing."""

import json
import re
import time

import httpx
import pytest
from websockets.sync.client import connect

from channels_app.models import WebhookEvent
from inbox import people
from tests.factories import TeamFactory, UserFactory, WebchatChannelFactory
from tests.helpers import api_payload, sign

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def websocket(live_server_url: str, user):
    token = people.operator_api_token(user=user)
    return connect(
        live_server_url.replace("http://", "ws://") + "/ws/inbox/",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=5,
    )


def events_until(socket, wanted: str, *, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {wanted} event within {timeout}s")
        event = json.loads(socket.recv(timeout=remaining))
        if event["type"] == wanted:
            return event


def drain(socket, *, quiet_for: float) -> list[dict]:
    events = []
    while True:
        try:
            events.append(json.loads(socket.recv(timeout=quiet_for)))
        except TimeoutError:
            return events


def test_a_webhook_reaches_the_operator_socket_and_only_the_right_one(
    live_server_url, channel, operator
):
    outsider = UserFactory(username="olga", teams=[TeamFactory(name="Billing")])
    body = api_payload(message_id="live-1", text="Is my order on its way?")

    with (
        websocket(live_server_url, operator) as mine,
        websocket(live_server_url, outsider) as theirs,
    ):
        drain(theirs, quiet_for=0.3)
        response = httpx.post(
            f"{live_server_url}/webhooks/api/{channel.public_id}/",
            content=body,
            headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
        )
        assert response.status_code == 200, response.text

        created = events_until(mine, "message.created")
        assert created["message"]["body"] == "Is my order on its way?"
        assert created["message"]["external_id"] == "live-1"
        conversation_id = created["conversation_id"]
        leaked = [e for e in drain(theirs, quiet_for=1.0) if e["type"] != "presence"]
        assert leaked == []

    api = httpx.Client(base_url=live_server_url)
    outsider_token = people.operator_api_token(user=outsider)
    answer = api.get(
        f"/api/v1/conversations/{conversation_id}/",
        headers={"Authorization": f"Token {outsider_token}"},
    )
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    operator_token = people.operator_api_token(user=operator)
    mine_answer = api.get(
        f"/api/v1/conversations/{conversation_id}/",
        headers={"Authorization": f"Token {operator_token}"},
    )
    assert mine_answer.status_code == 200


def test_bad_input_over_the_wire_never_gets_a_500(live_server_url, channel):
    url = f"{live_server_url}/webhooks/api/{channel.public_id}/"
    cases = [
        (b"{not json", {"X-Switchboard-Signature": sign(b"{not json")}, 400),
        (api_payload(), {"X-Switchboard-Signature": sign(b"other")}, 401),
        (b"x" * (1024 * 1024 + 1), {"X-Switchboard-Signature": "sha256=00"}, 413),
    ]
    for body, headers, expected in cases:
        response = httpx.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
        assert response.status_code == expected
        assert "error" in response.json()


@pytest.mark.parametrize(
    "path",
    ["/webhooks/%00/{public_id}/", "/webhooks/api%00/{public_id}/", "/survey/%00/"],
)
def test_unstorable_text_over_the_wire_is_a_400_on_either_webhook_path(
    live_server_url, channel, path
):
    body = api_payload()
    response = httpx.post(
        live_server_url + path.format(public_id=channel.public_id),
        content=body,
        headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_pages_and_health_answer_in_production_mode(live_server_url, operator):
    assert httpx.get(f"{live_server_url}/healthz/").json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
    }
    assert httpx.get(f"{live_server_url}/admin/login/").status_code == 200
    assert httpx.get(f"{live_server_url}/api/v1/docs/").status_code == 401
    token = people.operator_api_token(user=operator)
    docs = httpx.get(f"{live_server_url}/api/v1/docs/", headers={"Authorization": f"Token {token}"})
    assert docs.status_code == 200
    # Swagger UI comes from us, not a CDN: the docs work with no way out to the internet.
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    for src in scripts:
        assert httpx.get(f"{live_server_url}{src}").status_code == 200


@pytest.mark.parametrize("target", ["webhook", "widget upload"])
def test_a_huge_body_streamed_without_a_length_is_cut_off_with_413(
    live_server_url, channel, target
):
    webchat = WebchatChannelFactory()
    url = (
        f"{live_server_url}/webhooks/api/{channel.public_id}/"
        if target == "webhook"
        else f"{live_server_url}/widget/{webchat.public_id}/uploads/"
    )
    sent = 0

    def endless_chunks():
        # Chunked transfer: no Content-Length for the server to check up front.
        nonlocal sent
        chunk = b"x" * 65536
        while sent < 64 * 1024 * 1024:
            sent += len(chunk)
            yield chunk

    try:
        response = httpx.post(url, content=endless_chunks(), timeout=30)
    except httpx.HTTPError:
        response = None  # the server may close before the client finishes sending

    if response is not None:
        assert response.status_code == 413
        assert response.json()["error"] == "too_large"
    assert sent < 64 * 1024 * 1024
    assert not WebhookEvent.objects.exists()
