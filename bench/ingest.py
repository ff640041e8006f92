#!/usr/bin/env python
"""Inbound webhook benchmark: signed API-channel webhooks in, `message.created` frames out.

Runs the production mode (PostgreSQL + channels-redis, `manage.py serve` = uvicorn with
several workers) on loopback against a database of its own, and prints:

- raw PostgreSQL single-row insert transactions/s on this machine (1 and 4 clients);
- phase 1, throughput: N webhooks posted concurrently, messages/s stored end to end;
- phase 2, latency: an open-loop steady rate, POST-send -> websocket frame percentiles;
- the ratio end-to-end msgs/s / raw single-client TPS;
- SQL queries per message on the webhook path (new sender, known sender, duplicate);
- CPU milliseconds per message by process (server, PostgreSQL, Redis, this client).

Usage: .venv/bin/python bench/ingest.py [--messages 3000] [--rate 200] [--duration 10]
See bench/README.md. Only 127.0.0.1 is contacted; everything is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from benchlib import (
    HOST,
    MANAGE,
    ROOT,
    CpuMeter,
    RawClient,
    ServerProcess,
    bench_dsn,
    bench_env,
    descendants,
    free_port,
    freeze_client_heap,
    log,
    manage,
    note,
    pct_line,
    percentile,
    proc_stats,
    recreate_database,
)

LATENCY_WARM_CONNECTIONS = 16


# --------------------------------------------------------------------------- helpers


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------- environment


def seed_existing_inbox(dsn: str, conversations: int) -> None:
    """An inbox that has been in use: customers with two identities each (on another API
    channel), one conversation each (a third open, the rest resolved) and a message in
    each, so the webhook path's lookups and index updates work on tables of real size."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO channels_app_channel (kind, name, public_id, config, secrets_encrypted,"
            " csat, is_active, reopen_window_seconds, created_at, updated_at)"
            " VALUES ('api', 'earlier traffic', gen_random_uuid(), '{}', '', '{}', true, NULL,"
            " now(), now())"
        )
        conn.execute(
            """
            WITH customer AS (
                INSERT INTO customers_customer
                    (name, email, phone, attributes, created_at, updated_at)
                SELECT 'Earlier ' || n, 'earlier' || n || '@bench.example', '', '{}', now(),
                    now()
                FROM generate_series(1, %(count)s) AS n
                RETURNING id, email
            ), identity AS (
                INSERT INTO customers_identity (customer_id, kind, value, is_reachable, created_at)
                SELECT id, kind, value, true, now()
                FROM customer, LATERAL (VALUES ('email', email), ('api', 'earlier:' || id))
                    AS identity(kind, value)
            ), conversation AS (
                INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address,
                    status, priority, subject, last_message_at, last_inbound_at, created_at,
                    updated_at)
                SELECT id, (SELECT max(id) FROM channels_app_channel), 'earlier:' || id,
                    CASE WHEN id %% 3 = 0 THEN 'open' ELSE 'resolved' END, 'none', '',
                    now(), now(), now(), now()
                FROM customer
                RETURNING id, channel_id
            )
            INSERT INTO inbox_message (conversation_id, channel_id, direction, body,
                is_private, status, error, external_id, delivery_attempts, created_at,
                updated_at)
            SELECT id, channel_id, 'in', 'An earlier question', false, 'received', '{}',
                'earlier-' || id, 0, now(), now()
            FROM conversation
            """,
            {"count": conversations},
        )
        conn.execute("VACUUM ANALYZE")


def seed_automation_rules(dsn: str, count: int) -> None:
    """`count` active automation rules on customers' messages, as a busy team keeps them:
    every other one matches every message (no condition), the rest never do (a text no
    message has). Their actions run in the worker, which this bench does not start."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO automation_automationrule (name, trigger, conditions, actions,
                is_active, position, created_at, updated_at)
            SELECT 'Bench rule ' || n, 'message_created',
                CASE WHEN n %% 2 = 0 THEN '{}'::jsonb
                    ELSE '{"text_contains": ["never in a bench message"]}'::jsonb END,
                '[{"type": "set_priority", "priority": "high"}]'::jsonb, true, n, now(), now()
            FROM generate_series(1, %(count)s) AS n
            """,
            {"count": count},
        )


def seed_webhook_subscriptions(dsn: str, count: int) -> None:
    """`count` active outgoing webhooks that want every message and conversation change,
    as a CRM integration subscribes. Their deliveries are recorded with each message and
    sent by the worker, which this bench does not start."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO inbox_webhooksubscription (url, events, secret_encrypted, description,
                is_active, failures_in_a_row, disabled_reason, created_at, updated_at)
            SELECT 'https://crm' || n || '.example.com/hook',
                '["message.created", "conversation.created", "conversation.updated"]'::jsonb,
                'not read by this bench', '', true, 0, '', now(), now()
            FROM generate_series(1, %(count)s) AS n
            """,
            {"count": count},
        )


# --------------------------------------------------------------- raw PostgreSQL TPS


def raw_insert_tps(dsn: str, clients: int, seconds: float) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw ("
            " id bigserial PRIMARY KEY, k text NOT NULL UNIQUE, v text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    counts = [0] * clients
    start_barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(index: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            cursor = conn.cursor()
            prefix = f"{clients}-{index}-{uuid.uuid4().hex[:8]}-"
            start_barrier.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                cursor.execute(
                    "INSERT INTO bench_raw (k, v) VALUES (%s, %s) ON CONFLICT (k) DO NOTHING",
                    (prefix + str(n), "hello"),
                )
                n += 1
            counts[index] = n

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds + 0.2  # connections are open: start now
    start_barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(seconds + 30)
    return sum(counts) / (time.perf_counter() - started)


class CommitProbe:
    """A single-row insert every `interval` seconds on a connection of its own while a
    phase runs: how long PostgreSQL takes to commit (the disk's flush above all), at the
    same moments the webhooks are measured."""

    def __init__(self, dsn: str, interval: float = 0.02) -> None:
        self.dsn = dsn
        self.interval = interval
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CommitProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import psycopg

        prefix = f"probe-{uuid.uuid4().hex[:8]}-"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            n = 0
            while not self._stop.wait(self.interval):
                started = time.perf_counter()
                conn.execute(
                    "INSERT INTO bench_raw (k, v) VALUES (%s, %s) ON CONFLICT (k) DO NOTHING",
                    (prefix + str(n), "probe"),
                )
                self.latencies_ms.append(1000 * (time.perf_counter() - started))
                n += 1


# ------------------------------------------------------------------------- server


class Server(ServerProcess):
    """`manage.py serve --workers N` on `port`."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log_path: Path) -> None:
        self.port = port
        argv = [sys.executable, str(MANAGE), "serve", "--host", HOST, "--port", str(port)]
        super().__init__("serve", [*argv, "--workers", str(workers)], env, log_path)

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (multiprocessing children running spawn_main)."""
        stats = proc_stats()
        pids = []
        for pid in descendants(stats, self.proc.pid) - {self.proc.pid}:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                pids.append(pid)
        return sorted(pids)


# ---------------------------------------------------------------------- websocket


class FrameRecorder:
    """One operator websocket; the receive time of each message.created by external id."""

    def __init__(self, url: str, token: str, origin: str) -> None:
        self.url = url
        self.token = token
        self.origin = origin
        self.received: dict[str, float] = {}
        self.frames = 0
        self.connected = asyncio.Event()
        self.error: BaseException | None = None
        self._task: asyncio.Task | None = None
        self._ws = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        _done, _ = await asyncio.wait(
            {self._task, asyncio.create_task(self.connected.wait())},
            timeout=15,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not self.connected.is_set():
            raise SystemExit(f"operator websocket did not connect: {self.error!r}")

    async def _run(self) -> None:
        import websockets

        try:
            async with websockets.connect(
                self.url,
                additional_headers={"Authorization": f"Token {self.token}"},
                origin=self.origin,
                compression=None,
                max_size=None,
                open_timeout=10,
                ping_interval=None,
            ) as ws:
                self._ws = ws
                self.connected.set()
                async for frame in ws:
                    now = time.perf_counter()
                    self.frames += 1
                    # Cheap pre-filter before parsing JSON.
                    if '"message.created"' not in frame:
                        continue
                    event = json.loads(frame)
                    if event.get("type") == "message.created":
                        external_id = (event.get("message") or {}).get("external_id")
                        if external_id is not None and external_id not in self.received:
                            self.received[external_id] = now
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self.error = error

    async def wait_for(self, ids: list[str], timeout: float) -> int:
        deadline = time.perf_counter() + timeout
        missing = [i for i in ids if i not in self.received]
        while missing and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            missing = [i for i in missing if i not in self.received]
        return len(missing)

    async def stop(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 3)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


# ------------------------------------------------------------------------- payloads


def make_payload(secret: str, external_id: str, sender: int, text: str) -> tuple[bytes, str]:
    body = json.dumps(
        {
            "id": external_id,
            "sender": {
                "id": f"user-{sender}",
                "name": f"Bench User {sender}",
                "email": f"user{sender}@bench.example",
            },
            "text": text,
        },
        separators=(",", ":"),
    ).encode()
    return body, sign(secret, body)


class HttpxClient:
    def __init__(self, base: str, size: int) -> None:
        import httpx

        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self.client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)

    async def warm(self, count: int | None = None) -> None:
        pass

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = await self.client.post(path, content=body, headers=headers)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


def make_client(args, port: int, size: int):
    if args.client == "httpx":
        return HttpxClient(f"http://{HOST}:{port}", size)
    return RawClient(HOST, port, size)


class Poster:
    def __init__(
        self, client, path: str, signature_header: str = "X-Switchboard-Signature"
    ) -> None:
        self.client = client
        self.path = path
        self.signature_header = signature_header
        self.statuses: Counter = Counter()
        self.not_processed = 0
        self.sent_at: dict[str, float] = {}
        self.done_at: dict[str, float] = {}

    async def post(self, external_id: str, body: bytes, signature: str) -> None:
        headers = {"Content-Type": "application/json", self.signature_header: signature}
        self.sent_at[external_id] = time.perf_counter()
        try:
            status, content = await asyncio.wait_for(self.client.post(self.path, body, headers), 30)
        except Exception as error:
            self.statuses[type(error).__name__] += 1
            return
        self.done_at[external_id] = time.perf_counter()
        self.statuses[status] += 1
        if status == 200 and b'"processed":false' in content:
            self.not_processed += 1


def status_line(poster: Poster) -> str:
    parts = [f"{key}: {value}" for key, value in sorted(poster.statuses.items(), key=str)]
    extra = f", 200 but not processed: {poster.not_processed}" if poster.not_processed else ""
    return "HTTP statuses: " + ", ".join(parts) + extra


def count_messages(dsn: str, prefix: str) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM inbox_message WHERE external_id LIKE %s", (prefix + "%",)
        ).fetchone()
    return int(row[0])


def committed_transactions(dsn: str) -> int:
    """Transactions committed in the bench database so far (PostgreSQL's statistics, which
    backends report within about a second)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0])


async def transactions_since(dsn: str, before: int) -> int:
    await asyncio.sleep(1.2)  # let the backends report their statistics
    return committed_transactions(dsn) - before


# -------------------------------------------------------------------------- phases


async def phase_throughput(args, port, path, secret, recorder, dsn, meter) -> float:
    run = secrets.token_hex(3)
    prefix = f"p1-{run}-"
    payloads = [
        (f"{prefix}{i}", *make_payload(secret, f"{prefix}{i}", i % args.senders, f"hello {i}"))
        for i in range(args.messages)
    ]
    client = make_client(args, port, args.concurrency)
    await client.warm()
    poster = Poster(client, path)
    queue = iter(payloads)
    freeze_client_heap()
    deadline = time.perf_counter() + args.phase_timeout

    async def worker() -> None:
        for external_id, body, signature in queue:
            if time.perf_counter() > deadline:
                poster.statuses["not sent (phase timeout)"] += 1
                continue
            await poster.post(external_id, body, signature)

    transactions_before = committed_transactions(dsn)
    cpu_before = meter.snapshot()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    finally:
        await client.aclose()
    last_response = time.perf_counter()
    ids = [p[0] for p in payloads if p[0] in poster.done_at]
    missing = await recorder.wait_for(ids, timeout=15)
    cpu_after = meter.snapshot()
    frames = [recorder.received[i] for i in ids if i in recorder.received]
    # To the last frame; if frames went missing, to the last response instead.
    end = max(frames) if frames and not missing else last_response
    stored = count_messages(dsn, prefix)
    elapsed = end - started
    rate = stored / elapsed if elapsed > 0 else 0.0
    http_rate = len(poster.done_at) / (last_response - started)
    log(
        f"ingest: {stored} messages in {elapsed:.2f} s = {rate:.0f} msg/s end to end "
        f"(concurrency {args.concurrency}, {args.senders} senders, {args.client} client; "
        f"HTTP alone {http_rate:.0f} req/s; frames missing {missing})"
    )
    log(f"ingest {status_line(poster)}")
    response_ms = [
        1000 * (poster.done_at[i] - poster.sent_at[i]) for i in ids if i in poster.done_at
    ]
    log(f"ingest POST response time under load: {pct_line(response_ms)}")
    log("ingest " + CpuMeter.delta_line(cpu_before, cpu_after, max(stored, 1)))
    transactions = await transactions_since(dsn, transactions_before)
    log(
        f"ingest postgres transactions: {transactions} for {stored} messages = "
        f"{transactions / max(stored, 1):.2f} per message"
    )
    return rate


async def phase_latency(args, port, path, secret, recorder, dsn, meter) -> None:
    run = secrets.token_hex(3)
    prefix = f"p2-{run}-"
    total = int(args.rate * args.duration)
    # Mostly known senders (from phase 1), one in ten new.
    rng = random.Random(7)
    payloads = []
    new_sender_ids = set()
    for i in range(total):
        is_new_sender = rng.random() < 0.1
        sender = args.senders + 100_000 + i if is_new_sender else rng.randrange(args.senders)
        payloads.append((f"{prefix}{i}", *make_payload(secret, f"{prefix}{i}", sender, f"hi {i}")))
        if is_new_sender:
            new_sender_ids.add(f"{prefix}{i}")
    client = make_client(args, port, args.max_in_flight)
    # A sender at a steady rate keeps a few connections busy. Opening all of them first
    # made the server accept hundreds at once as the phase began, and close them together
    # at uvicorn's 5 s keep-alive timeout: bursts that set the p99, not the webhooks.
    await client.warm(LATENCY_WARM_CONNECTIONS)
    poster = Poster(client, path)
    scheduled: dict[str, float] = {}
    tasks: set[asyncio.Task] = set()
    lateness = []
    skipped = 0
    freeze_client_heap()
    transactions_before = committed_transactions(dsn)
    cpu_before = meter.snapshot()
    t0 = time.perf_counter() + 0.05
    probe = CommitProbe(dsn).__enter__()
    try:
        for index, (external_id, body, signature) in enumerate(payloads):
            due = t0 + index / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness.append(time.perf_counter() - due)
            if len(tasks) >= args.max_in_flight:
                # Open loop, but bounded: a server that falls this far behind is overloaded.
                skipped += 1
                continue
            scheduled[external_id] = due
            task = asyncio.create_task(poster.post(external_id, body, signature))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=20)
            for task in pending:
                task.cancel()
    finally:
        probe.__exit__()
        await client.aclose()
    ids = [p[0] for p in payloads if p[0] in poster.done_at]
    missing = await recorder.wait_for(ids, timeout=10)
    cpu_after = meter.snapshot()
    e2e = [1000 * (recorder.received[i] - scheduled[i]) for i in ids if i in recorder.received]
    e2e_actual = [
        1000 * (recorder.received[i] - poster.sent_at[i]) for i in ids if i in recorder.received
    ]
    response_ms = [1000 * (poster.done_at[i] - poster.sent_at[i]) for i in ids]
    sent = len(scheduled)
    span = (max(scheduled.values()) - t0) if sent > 1 else 0
    label = f"latency @{args.rate:.0f}/s"
    log(
        f"{label} for {args.duration:.0f} s: {sent} sent of {total} ({skipped} skipped at "
        f"{args.max_in_flight} in flight), answered {len(ids)}, frames missing {missing}, "
        f"send rate {sent / span if span else 0:.0f}/s"
    )
    log(f"{label} POST-send -> message.created frame: {pct_line(e2e)}")
    log(f"{label} (from actual send, not schedule): {pct_line(e2e_actual)}")
    for kind, wanted in (("known senders", False), ("new senders", True)):
        subset = [
            1000 * (recorder.received[i] - scheduled[i])
            for i in ids
            if i in recorder.received and (i in new_sender_ids) is wanted
        ]
        log(f"{label} POST-send -> frame, {kind} only: {pct_line(subset)}")
    log(f"{label} POST response time: {pct_line(response_ms)}")
    log(
        f"{label} postgres commit alone meanwhile (one insert every "
        f"{1000 * probe.interval:.0f} ms): {pct_line(probe.latencies_ms)}"
    )
    log(
        f"{label} scheduler lateness p99 {1000 * percentile(lateness, 0.99):.1f} ms, "
        f"max {1000 * max(lateness):.1f} ms; {status_line(poster)}"
    )
    log(f"{label} " + CpuMeter.delta_line(cpu_before, cpu_after, max(len(ids), 1)))
    transactions = await transactions_since(dsn, transactions_before) - len(probe.latencies_ms)
    log(
        f"{label} postgres transactions: {transactions} for {len(ids)} messages = "
        f"{transactions / max(len(ids), 1):.2f} per message (the commit probe's left out)"
    )


# ------------------------------------------------------------------ query counting


def count_queries_child() -> None:
    """Runs in a subprocess: posts webhooks in-process under CaptureQueriesContext."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    public_id = os.environ["BENCH_CHANNEL_PUBLIC_ID"]
    secret = os.environ["BENCH_CHANNEL_SECRET"]
    path = f"/webhooks/api/{public_id}/"
    client = Client()
    run = secrets.token_hex(3)
    sender = 900_000 + random.randrange(99_999)
    cases = [
        ("new sender", f"q-{run}-1", sender),
        ("known sender", f"q-{run}-2", sender),
        ("duplicate", f"q-{run}-2", sender),
    ]
    # Django's connection health check (CONN_HEALTH_CHECKS) runs "SELECT 1" on the raw
    # psycopg connection at the first query of each request, unseen by CaptureQueriesContext.
    health_checks: list[str] = []
    original_is_usable = connection.is_usable

    def is_usable_counted() -> bool:
        health_checks.append("SELECT 1  -- connection health check, outside Django's cursor")
        return original_is_usable()

    connection.is_usable = is_usable_counted  # type: ignore[method-assign]
    connection.ensure_connection()  # as on a server: the connection already exists
    result: dict = {}
    for label, external_id, who in cases:
        body, signature = make_payload(secret, external_id, who, "counting queries")
        health_checks.clear()
        # What request_started (main thread) or _process (pool threads) does on a server;
        # the test client disconnects that signal.
        connection.close_if_unusable_or_obsolete()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                path,
                data=body,
                content_type="application/json",
                headers={"X-Switchboard-Signature": signature},
            )
        result[label] = {
            "status": response.status_code,
            "queries": health_checks + [query["sql"] for query in captured.captured_queries],
        }
    # In-process cost of the same path (Django test client = sync handler, no ASGI server,
    # no thread pool). The broadcast is stubbed to JSON serialization: called from plain
    # sync code, async_to_sync would build a new event loop and Redis connection per event,
    # which the server does not pay.
    from inbox import realtime

    stubbed = hasattr(realtime, "_send_now")
    if stubbed:
        realtime._send_now = lambda groups, payload: json.dumps(payload)  # type: ignore
    timings, cpu = [], []
    for i in range(200):
        body, signature = make_payload(secret, f"q-{run}-t{i}", sender + (i % 5), "timing")
        started, cpu_started = time.perf_counter(), time.process_time()
        client.post(
            path,
            data=body,
            content_type="application/json",
            headers={"X-Switchboard-Signature": signature},
        )
        timings.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - cpu_started))
    result["in_process"] = {"ms": timings, "cpu_ms": cpu, "broadcast_stubbed": stubbed}
    print("BENCH-JSON " + json.dumps(result))


def count_queries(env: dict[str, str], public_id: str, secret: str) -> None:
    child_env = dict(env)
    child_env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BENCH_CHANNEL_PUBLIC_ID": public_id,
            "BENCH_CHANNEL_SECRET": secret,
        }
    )
    completed = subprocess.run(
        [sys.executable, __file__, "--count-queries-child"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    line = next(
        (row for row in completed.stdout.splitlines() if row.startswith("BENCH-JSON ")), None
    )
    if line is None:
        log(f"queries per message: could not measure ({completed.returncode})")
        log(completed.stderr[-3000:])
        return
    result = json.loads(line[len("BENCH-JSON ") :])
    counts = {label: len(result[label]["queries"]) for label in result if label != "in_process"}
    log(
        f"queries per message on the regular path (what the fast path leaves to it): new "
        f"sender {counts['new sender']}, known sender {counts['known sender']}, duplicate "
        f"{counts['duplicate']} (statements sent to PostgreSQL per webhook, "
        "BEGIN/SAVEPOINT/COMMIT included)"
    )
    timings = result["in_process"]["ms"]
    cpu = result["in_process"]["cpu_ms"]
    stub = ", broadcast stubbed" if result["in_process"]["broadcast_stubbed"] else ""
    log(
        f"in-process webhook (Django test client, one thread, no ASGI server{stub}): median "
        f"{statistics.median(timings):.2f} ms wall, {statistics.median(cpu):.2f} ms CPU, p90 "
        f"{percentile(timings, 0.9):.2f} ms = {1000 / statistics.median(timings):.0f} msg/s "
        "on one thread"
    )
    for label in ("new sender", "known sender", "duplicate"):
        log(f"  SQL, {label} (HTTP {result[label]['status']}):")
        for index, sql in enumerate(result[label]["queries"], 1):
            log(f"    {index:2d}. {sql if len(sql) <= 220 else sql[:217] + '...'}")


# ---------------------------------------------------------------------------- main


async def run_phases(args, env, server, token, dsn) -> None:
    import httpx

    base = f"http://{HOST}:{server.port}"
    # Wait until the server answers (both workers share the socket; warm-up below).
    deadline = time.perf_counter() + 60
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while True:
            if server.proc.poll() is not None:
                raise SystemExit("server exited during start-up:\n" + server.tail())
            try:
                response = await client.get(
                    "/api/v1/channels/", headers={"Authorization": f"Token {token}"}
                )
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise SystemExit("server did not answer within 60 s:\n" + server.tail())
            await asyncio.sleep(0.2)
        secret = secrets.token_hex(16)
        response = await client.post(
            "/api/v1/channels/",
            json={
                "kind": "api",
                "name": "bench",
                "config": {"secret": secret, "callback_url": "http://127.0.0.1:9/"},
            },
            headers={"Authorization": f"Token {token}"},
        )
        if response.status_code != 201:
            raise SystemExit(f"channel create answered {response.status_code}: {response.text}")
        public_id = response.json()["public_id"]
    path = f"/webhooks/api/{public_id}/"
    note(f"server on {base}, workers {server.worker_pids()}, channel {public_id}")

    recorder = FrameRecorder(f"ws://{HOST}:{server.port}/ws/inbox/", token, base)
    await recorder.start()
    meter = CpuMeter(server.proc.pid, args.db_name)
    try:
        # Warm-up: imports, connections and pools in both workers.
        client = make_client(args, server.port, 16)
        poster = Poster(client, path)
        warm = [
            (f"w-{i}", *make_payload(secret, f"w-{i}", 10_000_000 + i % 20, "warm-up"))
            for i in range(args.warmup)
        ]
        try:
            for start in range(0, len(warm), 16):
                await asyncio.gather(*(poster.post(*item) for item in warm[start : start + 16]))
        finally:
            await client.aclose()
        await recorder.wait_for([w[0] for w in warm], timeout=10)
        if poster.statuses.get(200, 0) != len(warm):
            log(f"warning: warm-up {status_line(poster)}\n{server.tail()}")
        note(f"warm-up done ({args.warmup} webhooks); websocket frames so far {recorder.frames}")

        if args.profile_dir:
            profilers = start_py_spy(server.worker_pids(), Path(args.profile_dir), "phase1")
        rate = await phase_throughput(args, server.port, path, secret, recorder, dsn, meter)
        if args.profile_dir:
            stop_py_spy(profilers, Path(args.profile_dir), "phase1")
        await asyncio.sleep(1.0)
        if args.profile_dir:
            profilers = start_py_spy(server.worker_pids(), Path(args.profile_dir), "phase2")
        await phase_latency(args, server.port, path, secret, recorder, dsn, meter)
        if args.profile_dir:
            stop_py_spy(profilers, Path(args.profile_dir), "phase2")
    finally:
        await recorder.stop()
    if recorder.error is not None:
        log(f"warning: websocket ended with {recorder.error!r}")
    args._e2e_rate = rate
    args._public_id = public_id
    args._secret = secret


def start_py_spy(pids: list[int], out_dir: Path, label: str) -> list[subprocess.Popen]:
    out_dir.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).with_name("py-spy")
    procs = []
    for pid in pids:
        procs.append(
            subprocess.Popen(
                [
                    str(py_spy),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "100",
                    "--gil",  # only the thread holding the GIL: where Python CPU goes
                    "--nonblocking",  # do not pause the workers at each sample
                    "--format",
                    "raw",
                    "--output",
                    str(out_dir / f"{label}-{pid}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(0.5)
    return procs


def stop_py_spy(procs: list[subprocess.Popen], out_dir: Path, label: str) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    summarize_profiles(sorted(out_dir.glob(f"{label}-*.txt")), label)


def summarize_profiles(files: list[Path], label: str, top: int = 15) -> None:
    """Top frames of py-spy raw (collapsed) profiles: self and inclusive share of samples."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for file in files:
        for line in file.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = stack.split(";")
            own[frames[-1]] += samples
            for frame in set(frames):
                inclusive[frame] += samples
    if not total:
        log(f"profile {label}: no samples (is py-spy installed and allowed to attach?)")
        return
    log(f"profile {label}: {total} GIL-holding samples in {len(files)} workers; top self:")
    for frame, samples in own.most_common(top):
        log(f"  {100 * samples / total:5.1f}%  {frame}")
    log(f"profile {label}: top inclusive (project code and Django/asgiref layers):")
    shown = 0
    for frame, samples in inclusive.most_common():
        if any(
            key in frame
            for key in (
                "(channels_app/",
                "(inbox/",
                "(customers/",
                "(config/",
                "(django/",
                "(asgiref/",
                "(channels/",
            )
        ):
            log(f"  {100 * samples / total:5.1f}%  {frame}")
            shown += 1
            if shown >= top:
                break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000, help="phase 1 webhooks")
    parser.add_argument("--concurrency", type=int, default=48, help="phase 1 in-flight requests")
    parser.add_argument("--senders", type=int, default=300, help="distinct senders in phase 1")
    parser.add_argument("--rate", type=float, default=200.0, help="phase 2 messages/s")
    parser.add_argument("--duration", type=float, default=10.0, help="phase 2 seconds")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="HTTP client")
    parser.add_argument("--max-in-flight", type=int, default=256, help="phase 2 cap")
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument(
        "--existing", type=int, default=100_000, help="earlier conversations in the database"
    )
    parser.add_argument(
        "--rules", type=int, default=0, help="active automation rules on customers' messages"
    )
    parser.add_argument(
        "--webhooks",
        type=int,
        default=0,
        help="active outgoing webhooks subscribed to messages and conversations",
    )
    parser.add_argument("--phase-timeout", type=float, default=45.0, help="phase 1 cap, s")
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--db-name", default="switchboard_bench")
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--profile-dir", help="py-spy raw profiles of the workers go here")
    parser.add_argument("--keep-server-log", action="store_true")
    parser.add_argument("--count-queries-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_queries_child:
        count_queries_child()
        return
    if args.messages > 20_000 or args.rate * args.duration > 20_000:
        raise SystemExit("bounded benchmark: at most 20,000 requests per phase")

    wall_started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    env = bench_env(db_name=args.db_name, redis_db=args.redis_db, data_dir=data_dir)
    dsn = bench_dsn(args.db_name)
    load1, load5, _ = os.getloadavg()
    log(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")

    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    note("migrate")
    manage(env, "migrate", "--noinput", "-v", "0")
    token = manage(env, "create_operator", "bench", "--role", "admin", "--print-token")
    if args.existing:
        note(f"an inbox with {args.existing} earlier conversations")
        seeded = time.monotonic()
        seed_existing_inbox(dsn, args.existing)
        note(f"seeded in {time.monotonic() - seeded:.0f} s")
    token = token.strip().splitlines()[-1].strip()
    if args.rules:
        note(f"{args.rules} active automation rules on customers' messages")
        seed_automation_rules(dsn, args.rules)
    if args.webhooks:
        note(f"{args.webhooks} outgoing webhooks subscribed to messages and conversations")
        seed_webhook_subscriptions(dsn, args.webhooks)

    note("raw PostgreSQL insert TPS")
    tps1 = raw_insert_tps(dsn, 1, args.raw_seconds)
    tps4 = raw_insert_tps(dsn, 4, args.raw_seconds)
    log(
        f"postgres raw single-row insert (autocommit, ON CONFLICT): {tps1:.0f} TPS (1 client), "
        f"{tps4:.0f} TPS (4 clients)"
    )

    port = free_port()
    # The operator socket accepts a browser's Origin only from the site's own address.
    env["PUBLIC_BASE_URL"] = f"http://{HOST}:{port}"
    server = Server(env, port, args.workers, data_dir / "server.log")
    try:
        asyncio.run(run_phases(args, env, server, token, dsn))
        log(
            f"ratio: end-to-end {args._e2e_rate:.0f} msg/s / raw 1-client {tps1:.0f} TPS = "
            f"{args._e2e_rate / tps1:.2f}"
        )
        note("counting queries in a child process")
        count_queries(env, args._public_id, args._secret)
    finally:
        server.stop()
        if args.keep_server_log:
            log(f"server log: {server.log_path}")
        else:
            for child in sorted(data_dir.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            data_dir.rmdir()
    log(f"bench wall time {time.monotonic() - wall_started:.0f} s")


if __name__ == "__main__":
    main()
