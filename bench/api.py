#!/usr/bin/env python
"""REST API benchmark: the production web tier under an open-loop rate of API reads.

Loads 100k conversations with 1M messages into a database of its own, starts the web tier
in production mode on loopback as docker-compose runs it (`--layout split`: HTTP on the
WSGI server, websockets and the webhook fast path on the ASGI server; `--layout single`:
`manage.py serve`, one port for everything), and prints:

- a mixed phase: an open-loop rate over the conversation list (mine/open as an operator,
  all as a supervisor), conversation search, conversation detail, message list and
  customer search; p50/p99 and errors per endpoint, CPU per request by process;
- saturation: the conversation list at rising rates, step by step, until the server no
  longer keeps up; the highest rate it kept up with;
- PostgreSQL connections of the bench database, sampled every 50 ms, against the bound the
  configuration promises.

Usage: .venv/bin/python bench/api.py [--rate 200] [--duration 10] [--layout split]
See bench/README.md. Only 127.0.0.1 is contacted; everything is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import (
    HOST,
    MANAGE,
    CpuMeter,
    RawClient,
    ServerProcess,
    bench_dsn,
    bench_env,
    free_port,
    freeze_client_heap,
    load_inbox,
    log,
    manage,
    note,
    pct_line,
    percentile,
    recreate_database,
)

from tests.live import proxy

# A step "keeps up" when nearly every request it offered was answered 200 within the step
# (plus a short grace) and the tail stayed below this.
KEEPS_UP_P99_MS = 1000.0
KEEPS_UP_SHARE = 0.97


# ----------------------------------------------------------------------------- data


def prepare(args: argparse.Namespace, env: dict[str, str]) -> None:
    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    started = time.monotonic()
    load_inbox(bench_dsn(args.db_name), args.conversations, args.messages_each)
    note(
        f"loaded {args.conversations} conversations with {args.messages_each} messages each "
        f"in {time.monotonic() - started:.0f} s"
    )


def api_token(env: dict[str, str], username: str) -> str:
    # "Generated token <key> for user <name>" (or the existing one with --reset off).
    output = manage(env, "drf_create_token", username)
    return output.split()[2]


def sample_ids(dsn: str) -> tuple[list[int], list[int]]:
    """Conversations anna may open (all are on her team's channel), and customer numbers."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        conversations = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM inbox_conversation ORDER BY random() LIMIT 2000"
            )
        ]
        customers = [
            int(row[0].split()[1])
            for row in connection.execute(
                "SELECT name FROM customers_customer WHERE name LIKE 'Customer %%' "
                "ORDER BY random() LIMIT 2000"
            )
        ]
    return conversations, customers


# -------------------------------------------------------------------------- servers


def layout_commands(args: argparse.Namespace, http_port: int, asgi_port: int) -> list[tuple]:
    """(name, argv, port) of each server process, as docker-compose.yml starts them."""
    serve = [sys.executable, str(MANAGE), "serve", "--host", HOST]
    if args.layout == "single":
        return [
            (
                "serve",
                [*serve, "--port", str(http_port), "--workers", str(args.web_workers)],
                http_port,
            )
        ]
    http = [*serve, "--part", "http", "--port", str(http_port), "--workers", str(args.web_workers)]
    realtime = [*serve, "--part", "realtime", "--port", str(asgi_port)]
    return [
        ("http", http, http_port),
        ("realtime", [*realtime, "--workers", str(args.asgi_workers)], asgi_port),
    ]


async def wait_until_answering(port: int, process: ServerProcess, timeout: float = 60) -> None:
    client = RawClient(HOST, port, 1)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.proc.poll() is not None:
                raise SystemExit(f"{process.name} exited during start-up:\n{process.tail()}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                status, _ = await client.request("GET", "/healthz/")
                if status == 200:
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"{process.name} did not answer in {timeout} s:\n{process.tail()}")
            await asyncio.sleep(0.2)
    finally:
        await client.aclose()


class ConnectionSampler:
    """PostgreSQL connections to the bench database, every `interval` seconds, from a
    connection of its own (not counted)."""

    def __init__(self, db_name: str, interval: float = 0.05) -> None:
        self.db_name = db_name
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(bench_dsn("postgres"), autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.db_name,)
                ).fetchone()
                self.samples.append(int(row[0]))

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


# --------------------------------------------------------------------------- load


@dataclass
class Endpoint:
    key: str
    label: str
    token: str
    paths: list[str]

    def path(self, rng: random.Random) -> str:
        return rng.choice(self.paths)


@dataclass
class Outcome:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    offered: int = 0
    skipped: int = 0
    answered_in_time: int = 0

    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies_ms.values() for value in values]

    def errors(self) -> int:
        return sum(
            count
            for counter in self.statuses.values()
            for status, count in counter.items()
            if status != 200
        )


async def open_loop(
    client: RawClient,
    endpoints: list[Endpoint],
    *,
    rate: float,
    duration: float,
    max_in_flight: int,
    seed: int,
) -> Outcome:
    """Requests at fixed times whatever the answers (endpoints in turn); latency counts from
    the scheduled time, so a server that falls behind is not flattered by a waiting client."""
    rng = random.Random(seed)
    outcome = Outcome()
    total = int(rate * duration)
    tasks: set[asyncio.Task] = set()
    started = time.perf_counter() + 0.05
    end_of_step = started + duration

    async def one(endpoint: Endpoint, path: str, due: float) -> None:
        headers = {"Accept": "application/json"}
        if endpoint.token:
            headers["Authorization"] = f"Token {endpoint.token}"
        try:
            status, _ = await asyncio.wait_for(client.request("GET", path, b"", headers), 30)
        except Exception as error:
            outcome.statuses[endpoint.label][type(error).__name__] += 1
            return
        done = time.perf_counter()
        outcome.statuses[endpoint.label][status] += 1
        if status == 200:
            outcome.latencies_ms[endpoint.label].append(1000 * (done - due))
            if done <= end_of_step + 1.0:
                outcome.answered_in_time += 1

    for index in range(total):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        outcome.offered += 1
        if len(tasks) >= max_in_flight:
            outcome.skipped += 1
            continue
        endpoint = endpoints[index % len(endpoints)]
        task = asyncio.create_task(one(endpoint, endpoint.path(rng), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=30)
        for task in pending:
            task.cancel()
    return outcome


def endpoints_for(tokens: dict[str, str], conversations: list[int], customers: list[int]):
    anna, supervisor = tokens["anna"], tokens["supervisor"]
    mixed = [
        Endpoint(
            "mine",
            "list mine/open (operator)",
            anna,
            ["/api/v1/conversations/?status=open&assignee=me"],
        ),
        Endpoint("all", "list all (supervisor)", supervisor, ["/api/v1/conversations/"]),
        Endpoint(
            "search",
            "search (operator)",
            anna,
            [f"/api/v1/conversations/?q=Customer+{number}" for number in customers[:500]],
        ),
        Endpoint(
            "detail",
            "detail (operator)",
            anna,
            [f"/api/v1/conversations/{pk}/" for pk in conversations],
        ),
        Endpoint(
            "messages",
            "messages (operator)",
            anna,
            [f"/api/v1/conversations/{pk}/messages/" for pk in conversations],
        ),
        Endpoint(
            "customers",
            "customer search (supervisor)",
            supervisor,
            [f"/api/v1/customers/?q=c{number}@example.com" for number in customers[500:1000]],
        ),
    ]
    # The web tier's own overhead: an API call with hardly any work of its own.
    mixed.append(Endpoint("labels", "label list (operator)", anna, ["/api/v1/labels/"]))
    return mixed


def chosen(endpoints: list[Endpoint], keys: list[str]) -> list[Endpoint]:
    return [endpoint for endpoint in endpoints if endpoint.key in keys]


async def run_load(args, port: int, tokens, conversations, customers, meter, sampler) -> None:
    endpoints = endpoints_for(tokens, conversations, customers)
    mixed = chosen(endpoints, args.endpoints)
    lists = chosen(endpoints, args.saturate)
    client = RawClient(HOST, port, args.max_in_flight)
    await client.warm(16)
    try:
        note("warm-up")
        await open_loop(client, mixed, rate=50, duration=3, max_in_flight=64, seed=1)
        freeze_client_heap()

        samples_before = len(sampler.samples)
        cpu_before = meter.snapshot()
        outcome = await open_loop(
            client,
            mixed,
            rate=args.rate,
            duration=args.duration,
            max_in_flight=args.max_in_flight,
            seed=2,
        )
        cpu_after = meter.snapshot()
        label = f"mixed @{args.rate:.0f}/s for {args.duration:.0f} s"
        answered = sum(sum(counter.values()) for counter in outcome.statuses.values())
        log(
            f"{label}: {outcome.offered} offered, {outcome.skipped} skipped at "
            f"{args.max_in_flight} in flight, {answered} answered, errors {outcome.errors()}"
        )
        for endpoint in mixed:
            statuses = ", ".join(
                f"{status}: {count}"
                for status, count in sorted(outcome.statuses[endpoint.label].items(), key=str)
            )
            latencies = outcome.latencies_ms[endpoint.label]
            log(f"  {endpoint.label:30} {pct_line(latencies)}  [{statuses}]")
        log(f"  {'all':30} {pct_line(outcome.all_latencies())}")
        log(f"{label} " + CpuMeter.delta_line(cpu_before, cpu_after, answered, "request"))
        phase_samples = sampler.samples[samples_before:]
        log(f"{label} postgres connections: peak {max(phase_samples, default=0)}")

        note("saturation")
        label = "+".join(args.saturate)
        kept_up = 0.0
        for rate in args.ramp:
            cpu_before = meter.snapshot()
            outcome = await open_loop(
                client,
                lists,
                rate=rate,
                duration=args.step_seconds,
                max_in_flight=args.max_in_flight,
                seed=int(rate),
            )
            cpu_after = meter.snapshot()
            latencies = outcome.all_latencies()
            p99 = percentile(latencies, 0.99)
            share = outcome.answered_in_time / max(outcome.offered, 1)
            keeps_up = (
                outcome.errors() == 0
                and outcome.skipped == 0
                and share >= KEEPS_UP_SHARE
                and p99 <= KEEPS_UP_P99_MS
            )
            used = CpuMeter.delta(cpu_before, cpu_after)
            answered = max(len(latencies), 1)
            log(
                f"saturation {label} @{rate:.0f}/s: answered in time {100 * share:.0f} %, "
                f"errors {outcome.errors()}, skipped {outcome.skipped}, "
                f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {p99:.1f} ms; cpu ms/request "
                f"server {1000 * used.get('server', 0) / answered:.2f}, "
                f"postgres {1000 * used.get('postgres', 0) / answered:.2f}"
                + ("" if keeps_up else "  <- does not keep up")
            )
            if not keeps_up:
                break
            kept_up = rate
            await asyncio.sleep(1)
        log(f"saturation: {label} kept up with {kept_up:.0f} requests/s")
    finally:
        await client.aclose()


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", choices=("split", "single"), default="split")
    parser.add_argument("--rate", type=float, default=200.0, help="mixed phase requests/s")
    parser.add_argument("--duration", type=float, default=10.0, help="mixed phase seconds")
    parser.add_argument(
        "--ramp",
        type=lambda text: [float(part) for part in text.split(",")],
        default=[100, 200, 300, 400, 500, 600, 700, 800, 1000],
        help="saturation steps, requests/s",
    )
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument(
        "--endpoints",
        type=lambda text: text.split(","),
        default=["mine", "all", "search", "detail", "messages", "customers"],
        help="mixed phase endpoints: mine, all, search, detail, messages, customers, labels",
    )
    parser.add_argument(
        "--saturate",
        type=lambda text: text.split(","),
        default=["mine", "all"],
        help="endpoints of the saturation steps (the conversation list by default)",
    )
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--web-workers", type=int, default=2, help="HTTP server processes")
    parser.add_argument("--web-threads", type=int, default=4, help="threads per HTTP process")
    parser.add_argument("--asgi-workers", type=int, default=1, help="ASGI server processes")
    parser.add_argument(
        "--no-proxy", action="store_true", help="split layout: no nginx, straight to the servers"
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="keep the database a run left")
    parser.add_argument("--db-name", default="switchboard_bench_api")
    parser.add_argument("--redis-db", type=int, default=4)
    parser.add_argument("--keep-server-log", action="store_true")
    args = parser.parse_args()
    if args.rate * args.duration > 20_000 or max(args.ramp) * args.step_seconds > 20_000:
        raise SystemExit("bounded benchmark: at most 20,000 requests per phase")

    wall_started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-api-"))
    env = bench_env(db_name=args.db_name, redis_db=args.redis_db, data_dir=data_dir)
    env["WEB_THREADS"] = str(args.web_threads)
    load1, load5, _ = os.getloadavg()
    log(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    if not args.reuse:
        prepare(args, env)
    tokens = {name: api_token(env, name) for name in ("anna", "supervisor")}
    conversations, customers = sample_ids(bench_dsn(args.db_name))

    http_port, asgi_port = free_port(), free_port()
    processes = []
    nginx = None
    try:
        for name, argv, port in layout_commands(args, http_port, asgi_port):
            processes.append(ServerProcess(name, argv, env, data_dir / f"{name}.log"))
            asyncio.run(wait_until_answering(port, processes[-1]))
        target_port = http_port
        if args.layout == "split" and not args.no_proxy:
            if not proxy.is_available():
                raise SystemExit("nginx is not installed (apt-get install nginx-light); --no-proxy")
            target_port = free_port()
            nginx = proxy.Proxy(
                data_dir / "nginx",
                listen=f"{HOST}:{target_port}",
                web=f"{HOST}:{http_port}",
                realtime=f"{HOST}:{asgi_port}",
            )
        note(
            "layout: "
            + ", ".join(f"{p.name} pid {p.proc.pid}" for p in processes)
            + (", docker-compose's nginx in front" if nginx else "")
        )
        meter = CpuMeter([p.proc.pid for p in processes], args.db_name)
        with ConnectionSampler(args.db_name) as sampler:
            asyncio.run(run_load(args, http_port, tokens, conversations, customers, meter, sampler))
            time.sleep(0.5)
        log(
            f"postgres connections to {args.db_name} during the run: peak {sampler.peak}, "
            f"after the load {sampler.samples[-1] if sampler.samples else 0}"
        )
    finally:
        if nginx is not None:
            nginx.stop()
        for process in reversed(processes):
            process.stop()
        if args.keep_server_log:
            log(f"server logs: {data_dir}")
    log(f"bench wall time {time.monotonic() - wall_started:.0f} s")


if __name__ == "__main__":
    main()
