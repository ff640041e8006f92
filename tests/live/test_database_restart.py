"""PostgreSQL restarted while webhooks arrive: each is stored and answered 200, or answered
503 with Retry-After for its sender to send again; never 200 for a webhook not stored,
never 500.

The cluster is the test's own (initdb and pg_ctl on a free port): the shared server is
never stopped."""

import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live.conftest import ROOT, RUN_ID, LiveServer, free_port
from tests.live.private_servers import PrivatePostgres, wait_for

pytestmark = [pytest.mark.real_services]

SECRET = "restart-secret"


@dataclass(frozen=True)
class Answer:
    external_id: str
    status: int
    retry_after: str | None
    error: str | None


@pytest.fixture
def server_on_private_postgres(live_environment, collected_static, tmp_path_factory):
    # Not under pytest's folder: the postgres user may not enter root's.
    cluster = PrivatePostgres(Path(tempfile.mkdtemp(prefix="switchboard-pg-"))).create()
    env = {
        **live_environment,
        "DATABASE_URL": cluster.url,
        "CHANNEL_LAYER_PREFIX": f"pgrestart{RUN_ID}",
        "CELERY_TASK_DEFAULT_QUEUE": f"pgrestart-{RUN_ID}",
        # While the database is down a request waits this long for a connection, then 503.
        "DATABASE_POOL_TIMEOUT": "2",
    }
    logs = tmp_path_factory.mktemp("logs")
    server = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        printed = subprocess.run(
            [sys.executable, "manage.py", "create_operator", "root", "--role", "admin",
             "--print-token"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        token = printed.stdout.strip().splitlines()[-1]
        server = LiveServer(env, ["--workers", "2"], free_port(), logs / "asgi.log")
        server.wait_until_answering()
        yield server, cluster, token
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()


def webhook_body(number: int) -> bytes:
    return json.dumps(
        {
            "id": f"restart-{number}",
            "sender": {"id": f"sender-{number % 5}", "name": f"Sender {number % 5}"},
            "text": f"message {number}",
        }
    ).encode()


def test_webhooks_during_a_database_restart_are_stored_or_answered_503(
    server_on_private_postgres,
):
    server, cluster, token = server_on_private_postgres
    admin = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Token {token}"}, timeout=30
    )
    created = admin.post("/api/v1/channels/", json={"kind": "api", "name": "Restart", "config": {
        "secret": SECRET}})  # fmt: skip
    assert created.status_code == 201, created.text
    url = f"/webhooks/api/{created.json()['public_id']}/"
    answers: list[Answer] = []
    posting = threading.Event()
    posting.set()

    def post_webhooks() -> None:
        sender = httpx.Client(base_url=server.url, timeout=30)
        number = 0
        while posting.is_set():
            number += 1
            body = webhook_body(number)
            signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            response = sender.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Switchboard-Signature": f"sha256={signature}",
                },
            )
            is_json = response.headers.get("content-type", "").startswith("application/json")
            answers.append(
                Answer(
                    external_id=f"restart-{number}",
                    status=response.status_code,
                    retry_after=response.headers.get("retry-after"),
                    error=response.json().get("error") if is_json else None,
                )
            )

    # Given webhooks flowing and stored
    thread = threading.Thread(target=post_webhooks, daemon=True)
    thread.start()
    wait_for(lambda: len(answers) >= 20, timeout=60, what="the first 20 webhooks")

    # When PostgreSQL stops under them, for as long as three more webhooks take, and starts
    cluster.stop()
    answered_before_stop_ended = len(answers)
    wait_for(
        lambda: len(answers) >= answered_before_stop_ended + 3,
        timeout=120,
        what="three webhooks answered while the database is down",
    )
    cluster.start()
    answered_before_restart_ended = len(answers)
    wait_for(
        lambda: sum(a.status == 200 for a in answers[answered_before_restart_ended:]) >= 20,
        timeout=60,
        what="20 webhooks stored after the restart",
    )
    posting.clear()
    thread.join(timeout=60)

    # Then each was stored and answered 200, or answered 503 to be sent again
    with cluster.connect() as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT external_id FROM inbox_message WHERE direction = 'in'"
            )
        }
    statuses = {answer.status for answer in answers}
    print(
        f"\nPostgreSQL restart: {len(answers)} webhooks, "
        f"{sum(a.status == 200 for a in answers)} answered 200, "
        f"{sum(a.status == 503 for a in answers)} answered 503, "
        f"{sum(a.status >= 500 and a.status != 503 for a in answers)} other 5xx"
    )
    assert statuses == {200, 503}, statuses
    assert [a.external_id for a in answers if a.status == 200 and a.external_id not in stored] == []
    for answer in answers:
        if answer.status == 503:
            assert (answer.error, answer.retry_after) == ("unavailable", "1")
