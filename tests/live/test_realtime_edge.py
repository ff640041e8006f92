"""Operator sockets on a live realtime server (`serve --part realtime`, one uvicorn process,
channels-redis): every socket of a group hears each event once, a client that stops
reading holds nobody else up, and the periodic access check still revokes."""

import json
import socket
import time
from collections import Counter
from contextlib import ExitStack

import httpx
import pytest
from websockets.sync.client import connect

from inbox import people
from inbox.models import Role
from tests.factories import ConversationFactory, UserFactory
from tests.helpers import api_payload, sign
from tests.live.conftest import LiveServer, connect_to_database, free_port
from tests.live.test_live_server import events_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def realtime_server(live_environment, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "realtime.log"
    environment = {**live_environment, "WEBSOCKET_ACCESS_RECHECK_SECONDS": "1"}
    server = LiveServer(environment, ["--part", "realtime", "--workers", "1"], free_port(), log)
    try:
        yield server.wait_until_answering()
    finally:
        server.stop()


def operator_socket(server: LiveServer, user):
    token = people.operator_api_token(user=user)
    return connect(
        server.url.replace("http://", "ws://") + "/ws/inbox/",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=5,
    )


def post_webhook(server: LiveServer, channel, body: bytes) -> None:
    response = httpx.post(
        f"{server.url}/webhooks/api/{channel.public_id}/",
        content=body,
        headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def messages_created(socket, *, until_count: int, timeout: float) -> Counter:
    """External ids of the `message.created` events a socket hears, until it has heard
    `until_count` of them and nothing more for a moment, or `timeout` passes."""
    heard: Counter = Counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        quiet_for = 0.5 if sum(heard.values()) >= until_count else deadline - time.monotonic()
        try:
            event = json.loads(socket.recv(timeout=max(quiet_for, 0.01)))
        except TimeoutError:
            if sum(heard.values()) >= until_count:
                break
            continue
        if event["type"] == "message.created":
            heard[event["message"]["external_id"]] += 1
    return heard


def test_every_socket_of_a_group_hears_each_message_exactly_once(realtime_server, channel, team):
    operators = [UserFactory(username=f"op{i}", teams=[team]) for i in range(4)]
    supervisor = UserFactory(username="sam", role=Role.SUPERVISOR)
    # Two tabs each; supervisors hear everything through another group.
    ids = [f"once-{i}" for i in range(20)]
    with ExitStack() as stack:
        sockets = [
            stack.enter_context(operator_socket(realtime_server, user))
            for user in [*operators, *operators, supervisor, supervisor]
        ]
        for index, external_id in enumerate(ids):
            body = api_payload(message_id=external_id, sender_id=f"u-{index % 3}")
            post_webhook(realtime_server, channel, body)

        for each in sockets:
            assert messages_created(each, until_count=len(ids), timeout=15) == Counter(ids)


def stalled_socket(server: LiveServer, user) -> socket.socket:
    """An operator socket whose client never reads again after the handshake (a frozen tab,
    a vanished laptop): a tiny receive buffer, so the server's writes back up."""
    token = people.operator_api_token(user=user)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    host, port = server.url.removeprefix("http://").split(":")
    raw.connect((host, int(port)))
    raw.sendall(
        (
            f"GET /ws/inbox/ HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Token {token}\r\n\r\n"
        ).encode()
    )
    raw.settimeout(5)
    assert b" 101 " in raw.recv(1024).split(b"\r\n")[0] + b" "
    return raw


def test_a_client_that_stops_reading_does_not_hold_up_the_others(
    realtime_server, channel, operator
):
    colleague = UserFactory(username="ben", teams=list(operator.teams.all()))
    stalled = stalled_socket(realtime_server, colleague)
    ids = [f"bulk-{i}" for i in range(150)]
    try:
        with operator_socket(realtime_server, operator) as reading:
            started = time.monotonic()
            for index, external_id in enumerate(ids):
                # Large messages, so the stalled client's buffers fill up early on.
                body = api_payload(
                    message_id=external_id, sender_id=f"u-{index % 5}", text="x" * 30_000
                )
                post_webhook(realtime_server, channel, body)

            assert messages_created(reading, until_count=len(ids), timeout=30) == Counter(ids)
            assert time.monotonic() - started < 30
    finally:
        stalled.close()


def test_the_periodic_check_revokes_access_changed_behind_the_servers_back(
    realtime_server, channel, operator, team
):
    with operator_socket(realtime_server, operator) as socket_of_operator:
        post_webhook(realtime_server, channel, api_payload(message_id="before"))
        assert messages_created(socket_of_operator, until_count=1, timeout=5) == {"before": 1}

        # Another database client takes the operator off the team: no announcement.
        with connect_to_database(autocommit=True) as database:
            database.execute(
                "DELETE FROM inbox_team_members WHERE user_id = %s AND team_id = %s",
                (operator.pk, team.pk),
            )
        time.sleep(2.5)  # more than one check interval
        post_webhook(realtime_server, channel, api_payload(message_id="after"))

        assert messages_created(socket_of_operator, until_count=1, timeout=2) == Counter()


def test_the_periodic_check_closes_the_socket_of_a_deactivated_operator(realtime_server, operator):
    with operator_socket(realtime_server, operator) as socket_of_operator:
        with connect_to_database(autocommit=True) as database:
            database.execute(
                "UPDATE inbox_user SET is_active = false WHERE id = %s", (operator.pk,)
            )

        deadline = time.monotonic() + 5
        with pytest.raises(Exception) as closed:
            while time.monotonic() < deadline:
                socket_of_operator.recv(timeout=deadline - time.monotonic())
        assert socket_of_operator.close_code == 4403, closed.value


def assert_a_reply_through_the_api_reaches_a_colleague(url: str, channel, operator, team):
    colleague = UserFactory(username="ben", teams=[team])
    conversation = ConversationFactory(channel=channel)
    with connect(
        url.replace("http://", "ws://") + "/ws/inbox/",
        additional_headers={"Authorization": f"Token {people.operator_api_token(user=colleague)}"},
        open_timeout=5,
    ) as socket_of_colleague:
        response = httpx.post(
            f"{url}/api/v1/conversations/{conversation.pk}/messages/",
            json={"body": "It left the warehouse this morning."},
            headers={"Authorization": f"Token {people.operator_api_token(user=operator)}"},
        )
        assert response.status_code == 201, response.text
        event = events_until(socket_of_colleague, "message.created")

    assert event["conversation_id"] == conversation.pk
    assert event["message"]["body"] == "It left the warehouse this morning."


def test_a_reply_through_the_api_reaches_a_colleagues_socket(
    realtime_server, channel, operator, team
):
    # The API runs on the server's threads: its events go to Redis from sync code.
    assert_a_reply_through_the_api_reaches_a_colleague(realtime_server.url, channel, operator, team)


def test_events_sent_while_a_socket_opens_reach_it_once_open(realtime_server, operator):
    # The operator's first socket announces them online before the handshake completes.
    with operator_socket(realtime_server, operator) as socket_of_operator:
        event = json.loads(socket_of_operator.recv(timeout=5))

    assert event["type"] == "presence"
    assert (event["operator"]["id"], event["status"]) == (operator.pk, "online")
