#!/usr/bin/env python
"""CSAT survey dispatch benchmark: 10,000 surveys come due at once; how long until the
platform has every one, exactly once.

Runs the production mode against a database of its own (switchboard_bench_surveys, Redis
db 12): a real Celery worker started as docker-compose.yml starts it (`celery -A config
worker --loglevel=INFO --concurrency=2`) and one `celery -A config beat`, with a queue of
their own. A fake platform on 127.0.0.1 (tests/fakes/platform.py, asyncio) answers every
request after 20 ms and records what it got. For each phase (the API channel's callback,
then Telegram bots), the bench loads N resolved conversations whose surveys fall due at
the same moment, then prints the seconds from that moment until the platform had them
all, surveys/s, duplicates, missing, failed, and CPU per survey of the worker, beat and
PostgreSQL.

    .venv/bin/python bench/surveys.py [--surveys 10000] [--phases api,telegram]

By default the surveys fall due `--lead` seconds after they are loaded, as surveys do when
resolving schedules them minutes ahead; `--due-now` loads them already due, where nothing
saw them coming. See bench/README.md. Bounded: at most 20,000 surveys a phase, each
phase capped by --timeout.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from ingest import (
    CLK_TCK,
    CpuMeter,
    _descendants,
    _proc_stats,
    bench_dsn,
    bench_env,
    recreate_database,
    start_py_spy,
    stop_py_spy,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.platform import FakePlatform  # noqa: E402

WORKER_COMMAND = ["-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"]
SURVEY_STATES = ("scheduled", "queued", "sending", "sent", "skipped", "failed")


def log(message: str) -> None:
    print(message, flush=True)


def note(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def bench_environment(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    environment = bench_env(args, data_dir)
    # As docker-compose.yml runs it, with a queue of its own.
    environment["LOG_LEVEL"] = "INFO"
    environment["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-surveys-{secrets.token_hex(4)}"
    return environment


class Processes:
    """The Celery worker and beat, each in a process group of its own."""

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self.log_dir = log_dir
        schedule = str(log_dir / "celerybeat-schedule")
        self.worker = self._start([*WORKER_COMMAND], environment, "worker.log")
        self.beat = self._start(
            ["-m", "celery", "-A", "config", "beat", "--loglevel=INFO", "--schedule", schedule],
            environment,
            "beat.log",
        )
        deadline = time.monotonic() + 60
        while "ready." not in (log_dir / "worker.log").read_text(errors="replace"):
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit("the worker did not start:\n" + self.tail("worker.log"))
            time.sleep(0.2)

    def _start(self, argv: list[str], environment: dict[str, str], log_name: str):
        return subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=environment,
            stdout=(self.log_dir / log_name).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def tail(self, log_name: str, lines: int = 40) -> str:
        text = (self.log_dir / log_name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for process in (self.beat, self.worker):
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in (self.beat, self.worker):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def create_channels(args: argparse.Namespace, platform_url: str) -> dict[str, list[int]]:
    """Through the product's own service: channel secrets are stored encrypted."""
    import django

    django.setup()
    from channels_app.services import channel_create

    channels: dict[str, list[int]] = {}
    if "api" in args.phases:
        channel = channel_create(
            kind="api",
            name="Bench API",
            config={"secret": "bench-secret", "callback_url": f"{platform_url}/callback"},
        )
        channels["api"] = [channel.pk]
    if "telegram" in args.phases:
        channels["telegram"] = [
            channel_create(
                kind="telegram",
                name=f"Bench bot {index}",
                config={
                    "bot_token": f"{700000 + index}:BENCH{index}",
                    "webhook_secret": "bench",
                    "api_base_url": platform_url,
                },
            ).pk
            for index in range(args.telegram_bots)
        ]
    return channels


def load_due_surveys(
    dsn: str, *, phase: str, channel_ids: list[int], count: int, due_at: datetime
) -> float:
    """Resolved conversations with an operator's reply, and their surveys due at `due_at`."""
    started = time.perf_counter()
    prefix = f"{phase}-"
    first_chat_id = 900_000_000 if phase == "telegram" else 0
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        operator_id = cursor.execute(
            "INSERT INTO inbox_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, role) VALUES ('!', false, %s, 'Bench', "
            "'', '', false, true, now(), 'operator') RETURNING id",
            (f"bench-{phase}",),
        ).fetchone()[0]
        parameters = {
            "count": count,
            "prefix": prefix,
            "first_chat_id": first_chat_id,
            "channels": channel_ids,
            "channel_count": len(channel_ids),
            "operator": operator_id,
            "kind": phase if phase == "telegram" else "api",
            "due_at": due_at,
        }
        cursor.execute(
            "CREATE TEMP TABLE bench_rows AS SELECT i, "
            "CASE WHEN %(first_chat_id)s > 0 THEN (%(first_chat_id)s + i)::text "
            "ELSE %(prefix)s || i END AS recipient, "
            "(%(channels)s::bigint[])[1 + i %% %(channel_count)s] AS channel_id "
            "FROM generate_series(1, %(count)s) i",
            parameters,
        )
        cursor.execute(
            "WITH customers AS (INSERT INTO customers_customer (name, email, phone, attributes, "
            "created_at, updated_at) SELECT 'Customer ' || recipient, '', '', '{}', now(), now() "
            "FROM bench_rows ORDER BY i RETURNING id), "
            "numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM customers) "
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, assignee_at_resolve_id, resolved_by_id, "
            "last_message_at, last_inbound_at, first_response_at, resolved_at, created_at, "
            "updated_at) SELECT n.id, r.channel_id, r.recipient, 'resolved', 'none', '', "
            "%(operator)s, %(operator)s, %(operator)s, now() - interval '6 minutes', "
            "now() - interval '9 minutes', now() - interval '8 minutes', "
            "now() - interval '5 minutes', now() - interval '10 minutes', now() "
            "FROM numbered n JOIN bench_rows r USING (i)",
            parameters,
        )
        cursor.execute(
            "INSERT INTO customers_identity (kind, value, is_reachable, created_at, customer_id) "
            "SELECT %(kind)s, recipient_address, true, now(), customer_id FROM inbox_conversation "
            "WHERE assignee_id = %(operator)s",
            parameters,
        )
        cursor.execute(
            "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, body_full, "
            "body_html, is_private, status, error, delivery_attempts, author_id, created_at, "
            "updated_at) SELECT id, channel_id, d.direction, d.body, '', '', false, d.status, "
            "'{}', d.attempts, CASE WHEN d.direction = 'out' THEN %(operator)s END, "
            "now() - d.age, now() - d.age FROM inbox_conversation "
            "CROSS JOIN (VALUES ('in', 'My order is late', 'received', 0, interval '9 minutes'), "
            "('out', 'Sent it again today.', 'sent', 1, interval '6 minutes')) "
            "d(direction, body, status, attempts, age) WHERE assignee_id = %(operator)s",
            parameters,
        )
        cursor.execute(
            "INSERT INTO inbox_csatsurvey (conversation_id, customer_id, channel_id, operator_id, "
            "last_replier_id, status, skip_reason, token, due_at, send_attempts, external_id, "
            "comment, created_at, updated_at) SELECT id, customer_id, channel_id, %(operator)s, "
            "%(operator)s, 'scheduled', '', md5(random()::text || id), %(due_at)s, 0, '', '', "
            "now(), now() FROM inbox_conversation WHERE assignee_id = %(operator)s",
            parameters,
        )
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def survey_states(dsn: str, channel_ids: list[int]) -> Counter:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM inbox_csatsurvey WHERE channel_id = ANY(%s) "
            "GROUP BY status",
            (channel_ids,),
        ).fetchall()
    return Counter(dict(rows))


def cpu_seconds(pid: int) -> float:
    stats = _proc_stats()
    return stats[pid][2] / CLK_TCK if pid in stats else 0.0


def run_phase(args, *, phase, channel_ids, platform, processes, dsn) -> None:
    platform_kind = "telegram" if phase == "telegram" else "callback"
    lead = 0.0 if args.due_now else args.lead
    due_at = datetime.now(UTC) + timedelta(seconds=lead)
    note(f"{phase}: loading {args.surveys} resolved conversations, surveys due in {lead:.0f} s")
    seconds = load_due_surveys(
        dsn, phase=phase, channel_ids=channel_ids, count=args.surveys, due_at=due_at
    )
    note(f"{phase}: loaded in {seconds:.1f} s")
    due_monotonic = time.monotonic() + (due_at - datetime.now(UTC)).total_seconds()
    if args.due_now:
        due_monotonic = time.monotonic()
    time.sleep(max(0.0, due_monotonic - time.monotonic()))
    meter = CpuMeter(processes.worker.pid, args.db_name)
    profilers = []
    if args.profile_dir:
        pool = _descendants(_proc_stats(), processes.worker.pid) - {processes.worker.pid}
        profilers = start_py_spy(sorted(pool), Path(args.profile_dir), phase)
    before = meter.snapshot()
    beat_before = cpu_seconds(processes.beat.pid)
    already = len(platform.conversations(platform_kind))
    deadline = due_monotonic + args.timeout
    while time.monotonic() < deadline:
        if len(platform.conversations(platform_kind)) - already >= args.surveys:
            break
        time.sleep(0.05)
    arrivals = [r for r in list(platform.received) if r.platform == platform_kind][already:]
    # Let the worker record the last answers before the states are counted.
    settle_until = time.monotonic() + 10
    while time.monotonic() < settle_until:
        states = survey_states(dsn, channel_ids)
        if not (states["scheduled"] + states["queued"] + states["sending"]):
            break
        time.sleep(0.2)
    after = meter.snapshot()
    beat_used = cpu_seconds(processes.beat.pid) - beat_before
    if profilers:
        stop_py_spy(profilers, Path(args.profile_dir), phase)
    report(args, phase, arrivals, due_monotonic, states, before, after, beat_used, platform)


def report(args, phase, arrivals, due_monotonic, states, before, after, beat_used, platform):
    per_conversation = Counter(r.conversation for r in arrivals)
    received = len(per_conversation)
    duplicates = sum(count - 1 for count in per_conversation.values())
    complete = received >= args.surveys
    elapsed = (max(r.at for r in arrivals) - due_monotonic) if arrivals else args.timeout
    first = (min(r.at for r in arrivals) - due_monotonic) if arrivals else float("nan")
    label = f"{phase} ({args.surveys} surveys{', due now' if args.due_now else ''})"
    if complete:
        log(
            f"{label}: all {args.surveys} received {elapsed:.1f} s after they fell due "
            f"(first after {first:.1f} s) = {args.surveys / elapsed:.0f} surveys/s"
        )
    else:
        projected = args.surveys / max(received, 1) * args.timeout
        log(
            f"{label}: only {received} of {args.surveys} received within {args.timeout:.0f} s "
            f"of falling due (first after {first:.1f} s) = {received / args.timeout:.0f} "
            f"surveys/s; at that rate all would take {projected:.0f} s"
        )
    log(
        f"{label}: duplicates {duplicates}, missing {args.surveys - received}, "
        f"failed {states['failed']}; states "
        + ", ".join(f"{state} {states[state]}" for state in SURVEY_STATES if states[state])
    )
    used = CpuMeter.delta(before, after)
    used["beat"] = beat_used
    wall = after["wall"] - before["wall"]

    def per_survey(kind: str) -> str:
        return f"{1000 * used.get(kind, 0.0) / max(received, 1):.2f}"

    log(
        f"{label}: cpu ms/survey: worker {per_survey('server')}, beat {per_survey('beat')}, "
        f"postgres {per_survey('postgres')}, redis {per_survey('redis')}, fake platform and "
        f"bench {per_survey('client')} (over {wall:.1f} s; load average "
        f"{os.getloadavg()[0]:.1f})"
    )
    if phase == "telegram":
        bots = {r.bot for r in arrivals}
        peak = max((platform.peak_per_second(bot) for bot in bots), default=0)
        log(
            f"{label}: {len(bots)} bots, most messages one bot had accepted within a second: "
            f"{peak}; 429 answers {len(platform.throttled)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--surveys", type=int, default=10_000, help="surveys per phase")
    parser.add_argument("--phases", default="api,telegram", help="api and/or telegram")
    parser.add_argument("--telegram-bots", type=int, default=50, help="bots the surveys share")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds until they fall due")
    parser.add_argument("--due-now", action="store_true", help="load them already due")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="platform answer time")
    parser.add_argument("--timeout", type=float, default=120.0, help="cap per phase, s")
    parser.add_argument("--db-name", default="switchboard_bench_surveys")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--profile-dir", help="py-spy profiles of the worker processes go here")
    args = parser.parse_args()
    args.phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    if args.surveys > 20_000:
        raise SystemExit("bounded benchmark: at most 20,000 surveys a phase")

    load1, load5, _ = os.getloadavg()
    log(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-surveys-"))
    environment = bench_environment(args, data_dir)
    os.environ.update(environment)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    dsn = bench_dsn(args.db_name)
    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True
    )
    subprocess.run(
        ["redis-cli", "-n", str(args.redis_db), "FLUSHDB"], check=False, capture_output=True
    )
    platform = FakePlatform(delay=args.delay_ms / 1000).start()
    channels = create_channels(args, platform.url)
    note("starting the worker and beat")
    processes = Processes(environment, data_dir)
    try:
        log(f"worker: celery {' '.join(WORKER_COMMAND[2:])} (and one beat)")
        for phase in args.phases:
            run_phase(
                args,
                phase=phase,
                channel_ids=channels[phase],
                platform=platform,
                processes=processes,
                dsn=dsn,
            )
    finally:
        processes.stop()
        platform.stop()
        if args.keep_logs:
            log(f"logs: {data_dir}")
        else:
            for child in sorted(data_dir.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            data_dir.rmdir()


if __name__ == "__main__":
    main()
