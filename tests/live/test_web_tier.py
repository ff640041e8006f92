"""The production web tier under more concurrent requests than it has database connections:
every request is answered, none with a server error, and the processes never hold more
PostgreSQL connections than their configuration allows. Both layouts: one port
(`serve`), and the split behind a proxy (`serve --part http` on granian for pages and the
API, `serve --part realtime` on uvicorn for websockets and webhooks)."""

import asyncio
import json
import threading
import time
from collections import Counter

import httpx
import pytest
from websockets.sync.client import connect

from inbox import people
from inbox.models import Message
from tests.factories import ConversationFactory, UserFactory
from tests.helpers import api_payload, sign
from tests.live import proxy
from tests.live.conftest import (
    LiveServer,
    database_sessions_of,
    free_port,
    hold_in_another_transaction,
)
from tests.live.test_realtime_edge import assert_a_reply_through_the_api_reaches_a_colleague

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

CONCURRENT_CLIENTS = 48


class ConnectionSampler:
    """Counts the servers' PostgreSQL sessions every 20 ms while the load runs."""

    def __init__(self, servers: list[LiveServer]) -> None:
        self.pids = set().union(*(server.pids() for server in servers))
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.samples.append(database_sessions_of(self.pids))

    def __enter__(self) -> "ConnectionSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(5)


async def drive(requests: list[tuple[str, str, dict, bytes]]) -> Counter:
    """Sends every request, CONCURRENT_CLIENTS at a time; counts the answers' statuses."""
    statuses: Counter = Counter()
    queue = iter(requests)
    limits = httpx.Limits(max_connections=CONCURRENT_CLIENTS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one_client() -> None:
            for method, url, headers, body in queue:
                response = await client.request(method, url, headers=headers, content=body)
                statuses[response.status_code] += 1

        await asyncio.gather(*(one_client() for _ in range(CONCURRENT_CLIENTS)))
    return statuses


def mixed_requests(
    *, http_url: str, webhook_url: str, channel, operator, rounds: int
) -> tuple[list[tuple[str, str, dict, bytes]], list[str]]:
    """API reads as an operator, and webhooks: text from known senders (the fast path) and
    messages with a file (the regular path, which stores the file's reference)."""
    token = {"Authorization": f"Token {people.operator_api_token(user=operator)}"}
    conversation = ConversationFactory(channel=channel)
    requests, message_ids = [], []
    for n in range(rounds):
        requests.append(("GET", f"{http_url}/api/v1/conversations/", token, b""))
        requests.append(("GET", f"{http_url}/api/v1/conversations/{conversation.pk}/", token, b""))
        requests.append(("GET", f"{http_url}/healthz/", {}, b""))
        text = api_payload(message_id=f"text-{n}", sender_id=f"u-{n % 7}", text=f"Hi {n}")
        with_file = api_payload(message_id=f"file-{n}", sender_id=f"u-{n % 5}", text="Photo")
        with_file = with_file[:-1] + b', "attachments": [{"url": "https://cdn.example/p.jpg"}]}'
        for body in (text, with_file):
            headers = {"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)}
            requests.append(("POST", webhook_url, headers, body))
        message_ids += [f"text-{n}", f"file-{n}"]
    return requests, message_ids


def assert_served_within_bound(servers, requests, message_ids, *, bound: int) -> None:
    with ConnectionSampler(servers) as sampler:
        statuses = asyncio.run(drive(requests))

    assert statuses == Counter({200: len(requests)}), statuses
    assert 0 < max(sampler.samples) <= bound, (max(sampler.samples), bound)
    stored = Message.objects.filter(external_id__in=message_ids)
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(message_ids)


@pytest.fixture(scope="module")
def small_web_tier(live_environment, collected_static, tmp_path_factory):
    """docker-compose's layout with deliberately few threads and connections per process:
    its nginx in front of granian (pages, API) and uvicorn (websockets, webhooks)."""
    if not proxy.is_available():
        pytest.skip("nginx is not installed: apt-get install -y nginx-light")
    env = {
        **live_environment,
        "WEB_THREADS": "2",
        "DATABASE_POOL_SIZE": "3",
        "WEBHOOK_FAST_PATH_CONNECTIONS": "2",
    }
    logs = tmp_path_factory.mktemp("web-tier-logs")
    http_port, realtime_port, proxy_port = free_port(), free_port(), free_port()
    http = LiveServer(env, ["--part", "http", "--workers", "2"], http_port, logs / "http.log")
    realtime = LiveServer(
        env, ["--part", "realtime", "--workers", "1"], realtime_port, logs / "realtime.log"
    )
    nginx = None
    try:
        http.wait_until_answering()
        realtime.wait_until_answering()
        nginx = proxy.Proxy(
            logs / "nginx",
            listen=f"127.0.0.1:{proxy_port}",
            web=f"127.0.0.1:{http_port}",
            realtime=f"127.0.0.1:{realtime_port}",
        )
        yield f"http://127.0.0.1:{proxy_port}", [http, realtime]
    finally:
        if nginx is not None:
            nginx.stop()
        http.stop()
        realtime.stop()


def test_the_split_layout_answers_a_crowd_within_its_connection_bound(
    small_web_tier, channel, operator
):
    url, servers = small_web_tier
    requests, message_ids = mixed_requests(
        http_url=url,
        webhook_url=f"{url}/webhooks/api/{channel.public_id}/",
        channel=channel,
        operator=operator,
        rounds=40,
    )
    # Two granian workers with a pool of 3 each; one uvicorn worker with a pool of 3 and
    # 2 connections of its own for the webhook fast path.
    assert_served_within_bound(servers, requests, message_ids, bound=2 * 3 + (3 + 2))


def test_behind_the_proxy_an_operator_socket_sees_a_webhook_arrive(
    small_web_tier, channel, operator
):
    url, _ = small_web_tier
    token = people.operator_api_token(user=operator)
    body = api_payload(message_id="through-the-proxy", text="Where is my parcel?")
    with connect(
        url.replace("http://", "ws://") + "/ws/inbox/",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=5,
    ) as socket:
        response = httpx.post(
            f"{url}/webhooks/api/{channel.public_id}/",
            content=body,
            headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 5
        event: dict = {}
        while event.get("type") != "message.created" and time.monotonic() < deadline:
            event = json.loads(socket.recv(timeout=deadline - time.monotonic()))

    assert event["message"]["body"] == "Where is my parcel?"
    page = httpx.get(f"{url}/login/")
    assert page.status_code == 200 and "<form" in page.text


def test_one_port_answers_a_crowd_within_its_connection_bound(
    one_port_server, channel, operator, settings
):
    requests, message_ids = mixed_requests(
        http_url=one_port_server.url,
        webhook_url=f"{one_port_server.url}/webhooks/api/{channel.public_id}/",
        channel=channel,
        operator=operator,
        rounds=40,
    )
    # Two uvicorn workers, each with its pool (WEB_THREADS + 2 by default) and the
    # webhook fast path's connections.
    bound = 2 * (settings.WEB_THREADS + 2 + settings.WEBHOOK_FAST_PATH_CONNECTIONS)
    assert_served_within_bound([one_port_server], requests, message_ids, bound=bound)


@pytest.fixture
def one_connection_server(live_environment, collected_static, tmp_path):
    env = {
        **live_environment,
        "WEB_THREADS": "2",
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_POOL_TIMEOUT": "0.5",
    }
    server = LiveServer(env, ["--workers", "1"], free_port(), tmp_path / "server.log")
    try:
        yield server.wait_until_answering()
    finally:
        server.stop()


def test_a_request_that_finds_every_connection_busy_is_told_to_come_back(
    one_connection_server, channel
):
    supervisor = UserFactory(username="sam", role="supervisor")
    headers = {"Authorization": f"Token {people.operator_api_token(user=supervisor)}"}
    conversation = ConversationFactory(channel=channel)
    api = f"{one_connection_server.url}/api/v1"
    # Given the server's only connection will wait for a row another session holds,
    locker = hold_in_another_transaction(
        "SELECT id FROM inbox_conversation WHERE id = %s FOR UPDATE", (conversation.pk,)
    )
    try:
        outcome: dict = {}
        resolving = threading.Thread(
            target=lambda: outcome.update(
                resolve=httpx.post(
                    f"{api}/conversations/{conversation.pk}/resolve/", headers=headers, timeout=30
                )
            )
        )
        resolving.start()
        time.sleep(0.5)

        # when another request comes (from a Russian-speaking client),
        busy = httpx.get(f"{api}/labels/", headers={**headers, "Accept-Language": "ru"}, timeout=30)
    finally:
        locker.rollback()
        locker.close()
    resolving.join(30)

    # then it is answered 503 with a JSON error and when to try again, not a server error,
    assert busy.status_code == 503, busy.text
    assert busy.json() == {
        "error": "unavailable",
        "detail": "Сервис перегружен; попробуйте чуть позже.",
    }
    assert busy.headers["Retry-After"] == "1"
    # and the held request, and the next ones, complete once the connection is free.
    assert outcome["resolve"].status_code == 200, outcome["resolve"].text
    assert httpx.get(f"{api}/labels/", headers=headers, timeout=30).status_code == 200


def test_behind_the_proxy_a_reply_through_the_api_reaches_a_colleagues_socket(
    small_web_tier, channel, operator, team
):
    url, _ = small_web_tier
    # The API runs on the WSGI server: its events go to Redis from sync code, no loop.
    assert_a_reply_through_the_api_reaches_a_colleague(url, channel, operator, team)
