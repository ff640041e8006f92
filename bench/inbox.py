"""Inbox benchmark: the server cost of the inbox first screen and of the REST API's read
endpoints over 100k conversations and 1M messages in PostgreSQL.

Creates its own database (switchboard_bench_inbox), migrates it, loads the rows with
INSERT ... SELECT, then times requests in process through Django's test client (server
time, no network). For each endpoint, as an operator (anna) and as a supervisor: median
and p99 wall time, CPU per request of this process (the web server's share) and of the
PostgreSQL backend serving it, the SQL statements a request runs and their summed time.

    python bench/inbox.py [--conversations 100000] [--messages-each 10] [--repeat 100]
                          [--seconds 10] [--reuse] [--only LABEL] [--explain] [--profile]
                          [--lean-token-auth]
"""

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from benchlib import load_inbox

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "switchboard_bench_inbox"
# What an operator types into the search box: an order number from a message, and a
# customer's name.
MESSAGE_SEARCH = "order 4242"
CUSTOMER_SEARCH = "Customer 4242"
# The same message words in another form (found by their stems) and a word no message has.
STEMMED_SEARCH = "orders 4242"
MISSING_SEARCH = "заказа"
# --profile: how cProfile sorts and how many lines it prints.
PROFILE_SORT = os.environ.get("BENCH_PROFILE_SORT", "tottime")
PROFILE_LINES = int(os.environ.get("BENCH_PROFILE_LINES", "25"))


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"),
        "SECRET_KEY": "bench",
        # The fake platforms listen on loopback, which outbound calls may not reach
        # in production unless allowed.
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        "LOG_LEVEL": "WARNING",
        # One backend for the whole run (a pool of one), so that its CPU time can be read.
        "DATABASE_POOL_SIZE": "1",
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
    load_inbox(database_url(), conversations, messages_each)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Endpoint:
    label: str
    url: str
    is_page: bool = False  # a page for a browser session, else the API with a token


def endpoints(conversation_id: int, next_cursor: str) -> list[Endpoint]:
    conversation = f"/api/v1/conversations/{conversation_id}/"
    return [
        Endpoint("inbox first screen", "/", is_page=True),
        Endpoint("inbox, mine/open", "/?view=mine&status=open", is_page=True),
        # What the page's script fetches next: the counts of the views and tabs, the open
        # conversation, then more of the list.
        Endpoint("inbox counts", "/inbox/counts/?view=all&status=open", is_page=True),
        Endpoint(
            "inbox conversation pane", f"/inbox/conversations/{conversation_id}/", is_page=True
        ),
        Endpoint("inbox list, next page", f"/inbox/list/?after={next_cursor}", is_page=True),
        Endpoint(
            f"inbox search, q={MESSAGE_SEARCH}", f"/inbox/search/?q={MESSAGE_SEARCH}", is_page=True
        ),
        Endpoint(
            f"inbox search, q={STEMMED_SEARCH}", f"/inbox/search/?q={STEMMED_SEARCH}", is_page=True
        ),
        # A yardstick: the framework, token authentication and one tiny query. CPU times
        # move with the machine's other load; the other rows compare best as multiples of it.
        Endpoint("API labels (yardstick)", "/api/v1/labels/"),
        Endpoint("API conversation list", "/api/v1/conversations/"),
        Endpoint("API list, open, assignee=me", "/api/v1/conversations/?status=open&assignee=me"),
        Endpoint(f"API list, q={MESSAGE_SEARCH}", f"/api/v1/conversations/?q={MESSAGE_SEARCH}"),
        Endpoint(f"API list, q={STEMMED_SEARCH}", f"/api/v1/conversations/?q={STEMMED_SEARCH}"),
        Endpoint(f"API list, q={MISSING_SEARCH}", f"/api/v1/conversations/?q={MISSING_SEARCH}"),
        Endpoint(f"API list, q={CUSTOMER_SEARCH}", f"/api/v1/conversations/?q={CUSTOMER_SEARCH}"),
        Endpoint("API conversation detail", conversation),
        Endpoint("API message list", f"{conversation}messages/"),
        Endpoint(f"API customers, q={CUSTOMER_SEARCH}", f"/api/v1/customers/?q={CUSTOMER_SEARCH}"),
    ]


def backend_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the PostgreSQL backend process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python_calls_per_request(request, count: int = 10) -> int:
    """Function calls (Python and built-in) a request makes: unlike times, the same on a
    busy machine as on an idle one, so runs compare even when the others' load differs."""
    calls = 0

    def counted(frame, event, argument) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(counted)
    try:
        for _ in range(count):
            request()
    finally:
        sys.setprofile(None)
    return calls // count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def explain(connection, statements: list[str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT a request ran, indented under it."""
    with connection.cursor() as cursor:
        for number, sql in enumerate(statements, 1):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
            print(f"    {number}. {sql[:160]}{'…' if len(sql) > 160 else ''}")
            for line in plan:
                print(f"         {line}")


def time_requests(
    repeat: int, seconds: float, only: str, show_plans: bool, profile: bool, lean_token_auth: bool
) -> None:
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
    if lean_token_auth:
        # What DEFAULT_AUTHENTICATION_CLASSES would give the views (they read it at import).
        from rest_framework.authentication import SessionAuthentication
        from rest_framework.views import APIView

        from inbox.api.authentication import TokenAuthentication

        APIView.authentication_classes = [TokenAuthentication, SessionAuthentication]
        print("API token authentication: inbox.api.authentication.TokenAuthentication")
    print(f"data: {Conversation.objects.count()} conversations, {Message.objects.count()} messages")
    # The open conversation with the latest activity: the one the first screen shows.
    recent_open = Conversation.objects.filter(status="open").order_by("-last_message_at", "-id")
    conversation_id = recent_open.first().pk
    # Where the first page of 25 ends (the list's cursor: "<id>~<last_message_at>").
    last_of_page = recent_open[24]
    next_cursor = f"{last_of_page.pk}~{last_of_page.last_message_at:%Y%m%dT%H%M%S.%f}"
    for username in ("anna", "supervisor"):
        user = User.objects.get(username=username)
        browser = Client()
        browser.force_login(user)
        api = Client(headers={"Authorization": f"Token {operator_api_token(user=user)}"})
        for endpoint in endpoints(conversation_id, next_cursor):
            if only and only not in endpoint.label:
                continue
            client = browser if endpoint.is_page else api
            for _ in range(3):
                assert client.get(endpoint.url).status_code == 200, endpoint.url
            # As the web workers do after start-up: long-lived objects out of the GC's way.
            gc.collect()
            gc.freeze()
            connection.ensure_connection()
            backend = connection.connection.info.backend_pid
            walls, cpus = [], []
            backend_started = backend_cpu_seconds(backend)
            deadline = time.monotonic() + seconds
            while len(walls) < repeat and time.monotonic() < deadline:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(endpoint.url)
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200, (endpoint.url, response.status_code)
            timed = len(walls)
            backend_ms = (backend_cpu_seconds(backend) - backend_started) * 1000 / timed
            assert connection.connection.info.backend_pid == backend, "reconnected meanwhile"
            sql_times, statements = [], []
            for _ in range(min(timed, 10)):
                with CaptureQueriesContext(connection) as captured:
                    client.get(endpoint.url)
                sql_times.append(sum(float(query["time"]) for query in captured) * 1000)
                statements = [query["sql"] for query in captured]
            calls = python_calls_per_request(
                lambda: client.get(endpoint.url),  # noqa: B023
                count=min(timed, 10),
            )
            print(
                f"{endpoint.label} ({username}): median {statistics.median(walls):.1f} ms, "
                f"p99 {percentile(walls, 0.99):.1f} ms, CPU {statistics.mean(cpus):.2f} ms/request"
                f" (median {statistics.median(cpus):.2f}), PostgreSQL backend CPU "
                f"{backend_ms:.2f} ms/request, {len(statements)} queries taking "
                f"{statistics.median(sql_times):.2f} ms, {calls} Python calls, "
                f"over {timed} requests"
            )
            if show_plans and username == "anna":
                explain(connection, statements)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(repeat):
                    client.get(endpoint.url)
                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats(PROFILE_SORT)
                stats.print_stats(PROFILE_LINES)
            gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=100, help="timed requests per endpoint")
    parser.add_argument(
        "--seconds", type=float, default=10, help="at most this long timing each endpoint"
    )
    parser.add_argument("--reuse", action="store_true", help="time the database a run left")
    parser.add_argument("--only", default="", help="time only endpoints whose label has this")
    parser.add_argument("--explain", action="store_true", help="print each statement's plan")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each")
    parser.add_argument(
        "--lean-token-auth",
        action="store_true",
        help="authenticate API tokens with inbox.api.authentication.TokenAuthentication",
    )
    options = parser.parse_args()
    if not options.reuse:
        seconds = prepare(options.conversations, options.messages_each)
        print(
            f"loaded {options.conversations} conversations with {options.messages_each} "
            f"messages each in {seconds:.1f} s"
        )
    time_requests(
        options.repeat,
        options.seconds,
        options.only,
        options.explain,
        options.profile,
        options.lean_token_auth,
    )


if __name__ == "__main__":
    main()
