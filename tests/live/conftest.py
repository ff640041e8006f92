"""Real processes against the test database: an ASGI server and a Celery worker.

They are started once per session, on the PostgreSQL test database pytest-django made,
with the Redis channel layer and broker, exactly as in production.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import OperationalError, connections
from django.test import TransactionTestCase

from config.celery import app as celery_app
from tests.factories import ChannelFactory

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = uuid.uuid4().hex[:8]
QUEUE = f"switchboard-test-{RUN_ID}"

# Tasks this test process enqueues go to a queue of this run only, so a worker of
# another run (or a stale task) never meets them.
celery_app.conf.task_default_queue = QUEUE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    detail = log.read_text()[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} did not come up in {timeout}s\n{detail}")


LIVE_PORT = free_port()


@pytest.fixture(autouse=True, scope="session")
def _flush_outlasts_live_queries():
    """Live servers and workers keep reading while a test's tables are emptied (a socket's
    periodic access check, a worker finishing a task): PostgreSQL may then break the
    deadlock by cancelling the flush, which is tried again rather than failing the test."""
    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for attempt in range(FLUSH_ATTEMPTS):
            try:
                return original(self)
            except CommandError as error:
                cause = error.__cause__
                is_deadlock = isinstance(cause, OperationalError) and "deadlock" in str(cause)
                if not is_deadlock or attempt == FLUSH_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


FLUSH_ATTEMPTS = 5


@pytest.fixture(scope="session")
def live_environment(django_db_setup, tmp_path_factory) -> dict[str, str]:
    database = settings.DATABASES["default"]
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{user}{password}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "DATABASE_CONN_MAX_AGE": "0",
        "DELIVERY_RETRY_BASE_SECONDS": "0.2",
        "DELIVERY_MAX_RETRIES": "2",
        "SWITCHBOARD_DATA_DIR": str(tmp_path_factory.mktemp("live-data")),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{LIVE_PORT}",
        # Every client of the tests comes from 127.0.0.1, and the failed sign-ins the
        # tests make on purpose are counted in the shared Redis.
        "LOGIN_FAILURE_LIMIT": "1000000",
        "PYTHONUNBUFFERED": "1",
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def process_group_pids(group: int) -> set[int]:
    """The processes of a server started in its own session (its workers included)."""
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == group:
                    pids.add(int(entry))
            except ProcessLookupError:
                continue
    return pids


def connect_to_database(*, dbname: str | None = None, autocommit: bool = False):
    """A psycopg connection of the test's own, outside Django (to the test database unless
    `dbname` says otherwise)."""
    database = connections["default"].settings_dict
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        dbname=dbname or database["NAME"],
        user=database["USER"] or "postgres",
        password=database["PASSWORD"] or None,
        autocommit=autocommit,
    )


def hold_in_another_transaction(sql: str, parameters: tuple):
    """A connection of its own that has run `sql` in a transaction it keeps open."""
    holder = connect_to_database()
    holder.execute(sql, parameters)
    return holder


def wait_until_blocked(timeout: float = 10) -> None:
    """Until some session waits for a lock (one the test holds with
    hold_in_another_transaction)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect_to_database(autocommit=True) as observer:
            waiting = observer.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.05)
    raise AssertionError("nothing waited for the lock")


def database_sessions_of(pids: set[int]) -> int:
    """PostgreSQL sessions the given processes hold (their connections name their pid)."""
    names = [f"switchboard {pid}" for pid in pids] + [f"switchboard webhooks {pid}" for pid in pids]
    with connect_to_database(dbname="postgres", autocommit=True) as observer:
        row = observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s)", [names]
        ).fetchone()
    return row[0] if row else 0


class LiveServer:
    """`manage.py serve` with the given arguments, as production starts it."""

    def __init__(self, env: dict[str, str], argv: list[str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = start(
            [sys.executable, "manage.py", "serve", "--port", str(port), *argv], env, log
        )

    def wait_until_answering(self) -> "LiveServer":
        def answers() -> bool:
            try:
                return httpx.get(f"{self.url}/healthz/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, timeout=30, what=f"the server at {self.url}", log=self.log)
        return self

    def pids(self) -> set[int]:
        return process_group_pids(self.process.pid)

    def stop(self) -> None:
        pids = self.pids()
        stop(self.process)
        # The database notices closed connections a moment later; the test database can
        # only be dropped once they are gone.
        wait_until(
            lambda: database_sessions_of(pids) == 0, timeout=10, what="the server's sessions"
        )


@pytest.fixture(scope="session")
def collected_static(live_environment) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=live_environment,
        check=True,
    )


@pytest.fixture(scope="session")
def one_port_server(live_environment, collected_static, tmp_path_factory):
    """`manage.py serve` with two worker processes: HTTP and websockets on one port."""
    log = tmp_path_factory.mktemp("logs") / "asgi.log"
    server = LiveServer(live_environment, ["--workers", "2"], LIVE_PORT, log)
    try:
        yield server.wait_until_answering()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server_url(one_port_server) -> str:
    return one_port_server.url


def start_worker(
    env: dict[str, str], queue: str, log: Path, *, concurrency: int | None = None
) -> subprocess.Popen:
    """One worker process (solo pool), or with `concurrency` the prefork pool production runs."""
    pool = ["--pool", "solo"] if concurrency is None else ["--concurrency", str(concurrency)]
    process = start(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            *pool, "--queues", queue, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        {**env, "CELERY_TASK_DEFAULT_QUEUE": queue},
        log,
    )  # fmt: skip
    wait_until(lambda: "ready." in log.read_text(), timeout=30, what="a Celery worker", log=log)
    return process


@pytest.fixture(scope="session")
def celery_worker(live_environment, tmp_path_factory):
    """A real Celery worker process consuming this run's queue from Redis."""
    log = tmp_path_factory.mktemp("logs") / "worker.log"
    process = start_worker(live_environment, QUEUE, log)
    try:
        yield process
    finally:
        stop(process)


# Browser tests: Debian's Chromium through Playwright, one browser per test module.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    # Playwright's sync API keeps its event loop registered as running in this thread, so
    # Django would refuse the ORM calls these tests (and their database flush) make. Nothing
    # async touches the ORM here: allow it while the browser runs, while this module's tests run.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_pages(chromium):
    contexts = []

    def new_page(
        *, width: int = 1280, height: int = 800, locale: str = "en-US", timezone_id: str = "UTC"
    ):
        # The browser's languages (navigator.languages, Accept-Language) and time zone are
        # set, not left to the machine's.
        context = chromium.new_context(
            viewport={"width": width, "height": height}, locale=locale, timezone_id=timezone_id
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def live_channel(team, callback_server):
    return ChannelFactory(teams=[team], config={"callback_url": callback_server.url})
