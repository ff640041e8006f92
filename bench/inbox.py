"""Inbox benchmark: server time of the inbox first screen and of the conversation list API
over 100k conversations and 1M messages in PostgreSQL.

Creates its own database (switchboard_bench_inbox), migrates it, loads the rows with
INSERT ... SELECT, then times requests in-process through Django's test client (server
time, no network): median and p99 over repeated requests, and the queries each costs.

    python bench/inbox.py [--conversations 100000] [--messages-each 10] [--repeat 50] [--reuse]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "switchboard_bench_inbox"


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }


def prepare(conversations: int, messages_each: int) -> float:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment(), check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    with psycopg.connect(database_url()) as connection, connection.cursor() as cursor:
        channel_id = cursor.execute(
            "SELECT id FROM channels_app_channel WHERE name = 'Demo API'"
        ).fetchone()[0]
        operators = [
            row[0]
            for row in cursor.execute(
                "SELECT id FROM inbox_user WHERE username IN ('anna', 'ben') ORDER BY id"
            )
        ]
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Customer ' || i, 'c' || i || '@example.com', '', '{}', now(), "
            "now() FROM generate_series(1, %s) i",
            (conversations,),
        )
        # As in a working inbox, most conversations are resolved (90 %); of the rest, half
        # open and the others pending or snoozed. A third unassigned, the rest shared by the
        # operators.
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, last_message_at, created_at, updated_at) "
            "SELECT c.id, %(channel)s, 'r' || c.id, "
            "CASE WHEN c.id %% 20 = 0 THEN 'open' WHEN c.id %% 40 = 1 THEN 'pending' "
            "WHEN c.id %% 40 = 21 THEN 'snoozed' ELSE 'resolved' END, "
            "'none', '', (ARRAY[NULL, %(first)s, %(second)s]::bigint[])[1 + c.id %% 3], "
            "now() - random() * interval '90 days', now(), now() "
            "FROM customers_customer c WHERE NOT EXISTS "
            "(SELECT 1 FROM inbox_conversation x WHERE x.customer_id = c.id)",
            {"channel": channel_id, "first": operators[0], "second": operators[1]},
        )
        cursor.execute(
            "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, is_private, "
            "status, error, delivery_attempts, created_at, updated_at) "
            "SELECT v.id, v.channel_id, CASE WHEN n %% 2 = 0 THEN 'in' ELSE 'out' END, "
            "'Message ' || n || ' about order ' || v.id, false, "
            "CASE WHEN n %% 2 = 0 THEN 'received' ELSE 'sent' END, '', 0, "
            "v.last_message_at - (%(each)s - n) * interval '1 minute', v.last_message_at "
            "FROM inbox_conversation v CROSS JOIN generate_series(1, %(each)s) n "
            "WHERE v.recipient_address LIKE 'r%%'",
            {"each": messages_each},
        )
        connection.commit()
    with psycopg.connect(database_url(), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def time_requests(repeat: int) -> None:
    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inbox.models import Conversation, Message, User
    from inbox.people import operator_api_token

    # The test client renders templates without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["testserver"]
    print(f"data: {Conversation.objects.count()} conversations, {Message.objects.count()} messages")
    for username in ("anna", "supervisor"):
        user = User.objects.get(username=username)
        browser = Client()
        browser.force_login(user)
        api = Client(headers={"Authorization": f"Token {operator_api_token(user=user)}"})
        for label, client, url in (
            ("inbox first screen", browser, "/"),
            ("inbox, mine/open", browser, "/?view=mine&status=open"),
            ("API conversation list", api, "/api/v1/conversations/"),
            ("API list, open, assignee=me", api, "/api/v1/conversations/?status=open&assignee=me"),
        ):
            client.get(url)
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            timings.sort()
            p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
            print(
                f"{label} ({username}): median {statistics.median(timings):.1f} ms, "
                f"p99 {p99:.1f} ms, {len(captured)} queries, over {repeat} requests"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="time the database a run left")
    options = parser.parse_args()
    if not options.reuse:
        seconds = prepare(options.conversations, options.messages_each)
        print(
            f"loaded {options.conversations} conversations with {options.messages_each} "
            f"messages each in {seconds:.1f} s"
        )
    time_requests(options.repeat)


if __name__ == "__main__":
    main()
