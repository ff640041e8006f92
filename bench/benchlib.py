"""What the benchmarks share: figures, CPU accounting, a lean HTTP client, databases.

Not a test helper and not part of the product: only the scripts in bench/ import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(message, flush=True)


def note(message: str) -> None:
    # Progress lines go to stderr so stdout keeps only the figures.
    print(f"  .. {message}", file=sys.stderr, flush=True)


def log_machine() -> None:
    load1, load5, _ = os.getloadavg()
    log(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def pct_line(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    return (
        f"p50 {percentile(values_ms, 0.50):.1f} ms  p90 {percentile(values_ms, 0.90):.1f} ms  "
        f"p99 {percentile(values_ms, 0.99):.1f} ms  max {max(values_ms):.1f} ms  "
        f"(n={len(values_ms)})"
    )


def freeze_client_heap() -> None:
    """Keep this client's own garbage collection out of the figures: a full pass over what
    it has built (payloads, the websocket, psycopg) paused it for 18-25 ms, and a frame
    read late looks like a slow server. Frozen objects are never walked again."""
    gc.collect()
    gc.freeze()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ CPU accounting

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stats() -> dict[int, tuple[str, int, int]]:
    """pid -> (comm, ppid, utime+stime ticks) for every readable process."""
    result = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                data = handle.read().decode(errors="replace")
        except OSError:
            continue
        close = data.rfind(")")
        comm = data[data.find("(") + 1 : close]
        fields = data[close + 2 :].split()
        # fields[0] is state (field 3); utime is field 14, stime 15, ppid 4.
        result[int(entry)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))
    return result


def descendants(stats: dict[int, tuple[str, int, int]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = set(), [root]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, []))
    return found


class CpuMeter:
    """CPU seconds used by the server trees, PostgreSQL (the bench database's backends and
    the shared background processes, not other databases' backends), Redis and this process.

    Deltas are taken per process, so a process that exits between two snapshots is left out
    instead of making a total go down.
    """

    def __init__(
        self, server_pids: int | list[int], db_name: str, *, separate_background: bool = False
    ) -> None:
        self.server_pids = [server_pids] if isinstance(server_pids, int) else list(server_pids)
        self.db_name = db_name.encode()
        # Background processes (walwriter, checkpointer) serve every database on the server:
        # apart, the bench's own backends are not mixed with what other databases cost.
        self.separate_background = separate_background
        self._postgres_kind: dict[int, str | None] = {}

    def _postgres_kind_of(self, pid: int) -> str | None:
        """ "postgres" for the bench database's backends (and their parallel workers),
        "postgres background" for shared processes, None for other databases' backends."""
        if pid not in self._postgres_kind:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                return None
            # Backends read "postgres: 15/main: <user> <database> <host> ..."; background
            # processes ("walwriter", "checkpointer", ...) have no database; a parallel
            # worker names its leader ("parallel worker for PID <n>").
            leader = re.search(rb"parallel worker for PID (\d+)", title)
            if leader is not None:
                kind = self._postgres_kind_of(int(leader.group(1)))
            elif re.search(rb"\(\d+\)|\[local\]", title) is not None:
                kind = "postgres" if (b" " + self.db_name + b" ") in title else None
            else:
                kind = "postgres background" if self.separate_background else "postgres"
            self._postgres_kind[pid] = kind
        return self._postgres_kind[pid]

    def snapshot(self) -> dict:
        stats = proc_stats()
        server: set[int] = set()
        for root in self.server_pids:
            server |= descendants(stats, root)
        per_pid: dict[int, tuple[str, int]] = {}
        for pid, (comm, _, ticks) in stats.items():
            if pid in server:
                per_pid[pid] = ("server", ticks)
            elif comm.startswith("postgres") and (kind := self._postgres_kind_of(pid)):
                per_pid[pid] = (kind, ticks)
            elif comm.startswith("redis"):
                per_pid[pid] = ("redis", ticks)
        times = os.times()
        return {"pids": per_pid, "client": times.user + times.system, "wall": time.monotonic()}

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float]:
        used: Counter = Counter()
        for pid, (kind, ticks) in after["pids"].items():
            previous = before["pids"].get(pid)
            used[kind] += ticks - (previous[1] if previous and previous[0] == kind else 0)
        result = {key: value / CLK_TCK for key, value in used.items()}
        result["client"] = after["client"] - before["client"]
        return result

    @staticmethod
    def delta_line(before: dict, after: dict, count: int, unit: str = "message") -> str:
        wall = after["wall"] - before["wall"]
        used = CpuMeter.delta(before, after)
        parts = []
        total = 0.0
        keys = ["server", "postgres", "postgres background", "redis", "client"]
        for key in keys:
            if key == "postgres background" and key not in used:
                continue
            total += used.get(key, 0.0)
            parts.append(f"{key} {1000 * used.get(key, 0.0) / max(count, 1):.2f}")
        return (
            f"cpu ms/{unit}: " + ", ".join(parts) + f"; total {1000 * total / max(count, 1):.2f}"
            f" (our processes kept {total / wall:.2f} of {os.cpu_count()} cores busy; "
            f"load average {os.getloadavg()[0]:.1f})"
        )


# ----------------------------------------------------------------------- databases


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(*, db_name: str, redis_db: int, data_dir: Path) -> dict[str, str]:
    """Production mode on a database and Redis database of the benchmark's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "SECRET_KEY": "bench",
            # The fake platforms listen on loopback, which outbound calls may not reach
            # in production unless allowed.
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "CHANNEL_LAYER_PREFIX": f"bench-{os.getpid()}-{secrets.token_hex(3)}",
            "CELERY_TASK_DEFAULT_QUEUE": f"bench-{os.getpid()}",
            "SWITCHBOARD_DATA_DIR": str(data_dir),
            "STATIC_ROOT": str(data_dir / "static"),
            "MEDIA_ROOT": str(data_dir / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


LABELS = ("billing", "vip", "bug", "refund", "feedback")


def load_inbox(dsn: str, conversations: int, messages_each: int) -> None:
    """On a migrated database with the demo data: customers who came through the demo API
    channel (an identity each), a conversation each (90 % resolved, the rest open, pending
    or snoozed; a third unassigned, the rest shared by anna and ben), `messages_each`
    messages in each, and a few labels, as an inbox in use for months has."""
    import psycopg

    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
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
        cursor.execute(
            "INSERT INTO customers_identity (customer_id, kind, value, is_reachable, created_at) "
            "SELECT c.id, 'api', 'user-' || c.id, true, now() FROM customers_customer c "
            "WHERE c.email LIKE 'c%%@example.com'"
        )
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
            "CASE WHEN n %% 2 = 0 THEN 'received' ELSE 'sent' END, '{}', 0, "
            "v.last_message_at - (%(each)s - n) * interval '1 minute', v.last_message_at "
            "FROM inbox_conversation v CROSS JOIN generate_series(1, %(each)s) n "
            "WHERE v.recipient_address LIKE 'r%%'",
            {"each": messages_each},
        )
        # One label on every seventh conversation and a second on every 21st.
        for name in LABELS:
            cursor.execute(
                "INSERT INTO inbox_label (name, color, created_at) VALUES (%s, '#6b7280', now())",
                (name,),
            )
        cursor.execute(
            "INSERT INTO inbox_conversation_labels (conversation_id, label_id) "
            "SELECT v.id, l.id FROM inbox_conversation v JOIN inbox_label l "
            "ON (v.id % 7 = 0 AND l.name = 'billing') OR (v.id % 21 = 0 AND l.name = 'vip')"
        )
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def bench_dsn(name: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={name}"


def manage(env: dict[str, str], *argv: str, timeout: float = 120) -> str:
    completed = subprocess.run(
        [sys.executable, str(MANAGE), *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"manage.py {' '.join(argv)} failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout


# ------------------------------------------------------------------------ servers


class ServerProcess:
    """A server started in its own process group, stopped as a whole, its output in a log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - open while the process runs
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# -------------------------------------------------------------------- HTTP client


class HttpConnection:
    """A minimal HTTP/1.1 keep-alive client connection over asyncio streams.

    httpx costs 1.7-4 ms of CPU per request on this kind of machine (h11 parsing, the
    pool's bookkeeping grows with its size), which on 2 cores takes a large share from
    the server being measured; this costs ~0.1 ms.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), 10
        )
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            *([f"Content-Length: {len(body)}"] if body or method != "GET" else []),
            *(f"{name}: {value}" for name, value in headers.items()),
            "",
            "",
        ]
        try:
            self.writer.write("\r\n".join(lines).encode("latin-1") + body)
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionResetError("server closed the connection")
            status = int(status_line.split(b" ", 2)[1])
            length, chunked, close = None, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    close = True
            if chunked:
                parts = []
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                content = b"".join(parts)
            elif length is not None:
                content = await self.reader.readexactly(length)
            else:
                content, close = await self.reader.read(), True
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, content

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.request("POST", path, body, headers)


class RawClient:
    """A pool of HttpConnections, at most `size` in use at once."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.idle = [HttpConnection(host, port) for _ in range(size)]

    async def warm(self, count: int | None = None) -> None:
        """Open `count` connections (all by default); the others open when first needed."""
        chosen = self.idle if count is None else self.idle[-count:]  # taken last in, first out
        await asyncio.gather(*(conn.open() for conn in chosen), return_exceptions=True)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = self.idle.pop()  # callers never exceed `size` requests in flight
        try:
            was_open = conn.writer is not None
            try:
                return await conn.request(method, path, body, headers or {})
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
                if not was_open:
                    raise
                # The server closed this keep-alive connection while it sat idle: like any
                # HTTP client, send again once on a fresh one. Webhooks are idempotent and
                # the other requests here only read, so nothing is stored twice.
                return await conn.request(method, path, body, headers or {})
        finally:
            self.idle.append(conn)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.request("POST", path, body, headers)

    async def aclose(self) -> None:
        for conn in self.idle:
            conn.close()
