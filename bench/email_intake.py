#!/usr/bin/env python
"""Email intake benchmark: a corpus of real-world-shaped mail over SMTP, and from an IMAP box.

The corpus is CPython's 48 email test messages (`Lib/test/test_email/data/msg_*.txt`, from
this Python's `test` package), cycled to `--emails`, each with a unique Message-ID; person
mail comes from `--senders` customers, `--replies` of it answers an earlier mail of the same
sender (In-Reply-To/References); bounces and list mail keep their machine senders. Phases,
each into a fresh database of its own (`switchboard_bench_email`, Redis db 14):

1. `manage.py smtp_inbound` in production mode, `--connections` concurrent SMTP clients
   into a fresh channel;
2. a burst: the same count from `--burst-connections` connections at once;
3. the same into a channel holding `--stored` email messages (loaded with COPY);
4. IMAP: the corpus APPENDed to a dovecot mailbox on loopback, imported by a Celery worker
   running the channel's `mailbox_poll`;
5. per-statement PostgreSQL time and plans on the large channel, measured from the client
   (pg_stat_statements is not loaded on the shared server; where it is, each SMTP phase
   also prints the server's own execution and planning time per statement).

Prints emails/s end to end, application (server process tree) and PostgreSQL CPU per email,
and whether every reply landed in its parent's conversation. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import smtplib  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import psycopg  # noqa: E402

from bench.benchlib import (  # noqa: E402
    HOST,
    MANAGE,
    CpuMeter,
    ServerProcess,
    bench_dsn,
    bench_env,
    free_port,
    log,
    log_machine,
    manage,
    note,
    pct_line,
    recreate_database,
)

MAILBOX_USER = "support@imap.bench.example"
HEADER_END = re.compile(rb"\r?\n\r?\n")
REWRITTEN_HEADERS = {b"message-id", b"in-reply-to", b"references"}
SENDER_HEADERS = {b"from", b"sender", b"reply-to", b"return-path"}
MACHINE_PRECEDENCE = {b"bulk", b"list", b"junk"}
DAEMON_LOCAL_PARTS = (b"mailer-daemon", b"postmaster")


# ---------------------------------------------------------------------------- corpus


@dataclass
class CorpusMail:
    message_id: str
    raw: bytes
    envelope_sender: str
    is_person: bool
    parent: int | None = None  # index of the mail this one answers


def corpus_directory() -> Path:
    spec = importlib.util.find_spec("test.test_email")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "this Python has no test package: install Debian's libpython3.11-testsuite "
            "(or a Python built with its tests) for Lib/test/test_email/data"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def header_fields(block: bytes) -> list[bytes]:
    """The header block as whole fields, continuation lines kept with theirs; the mbox
    "From " separator line some files start with is dropped (no MTA delivers it)."""
    fields: list[bytes] = []
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif line and not line.startswith(b"From "):
            fields.append(line)
    return fields


def field_name(field: bytes) -> bytes:
    return field.partition(b":")[0].strip().lower()


def field_value(fields: list[bytes], name: bytes) -> bytes:
    return next(
        (f.partition(b":")[2].strip().lower() for f in fields if field_name(f) == name), b""
    )


def is_machine_mail(fields: list[bytes]) -> bool:
    """Bounces, list mail and auto-submitted mail: what a helpdesk must store and not open."""
    content_type = field_value(fields, b"content-type")
    auto_submitted = field_value(fields, b"auto-submitted")
    sender = field_value(fields, b"from")
    return (
        content_type.startswith(b"multipart/report")
        or field_value(fields, b"precedence") in MACHINE_PRECEDENCE
        or (auto_submitted not in (b"", b"no"))
        or any(part in sender for part in DAEMON_LOCAL_PARTS)
    )


def build_corpus(count: int, senders: int, replies: int, run: str) -> list[CorpusMail]:
    templates = []
    for path in sorted(corpus_directory().glob("msg_*.txt")):
        raw = path.read_bytes().replace(b"\r\n", b"\n")
        found = HEADER_END.search(raw)
        block, body = (raw[: found.start()], raw[found.end() :]) if found else (raw, b"")
        fields = header_fields(block)
        templates.append((fields, body, is_machine_mail(fields)))
    person_templates = [template for template in templates if not template[2]]
    reply_every = max(2, count // max(replies, 1)) if replies else 0
    mails: list[CorpusMail] = []
    sender_of: dict[int, int] = {}
    originals: list[int] = []
    persons_seen = 0
    for index in range(count):
        message_id = f"{run}.{index}@bench.example"
        is_reply = bool(reply_every) and index % reply_every == reply_every - 1 and originals
        if is_reply and len([m for m in mails if m.parent is not None]) >= replies:
            is_reply = False
        fields, body, is_machine = (
            person_templates[index % len(person_templates)] if is_reply else templates[index % 48]
        )
        kept = [f for f in fields if field_name(f) not in REWRITTEN_HEADERS]
        added = [f"Message-ID: <{message_id}>".encode()]
        parent = None
        if is_machine:
            envelope = (
                "" if b"report" in field_value(fields, b"content-type") else "list@lists.example"
            )
        else:
            if is_reply:
                # A parent some way back, so several mails are in flight in between.
                parent = originals[max(0, len(originals) - 1 - (index % 7) * 3)]
                sender = sender_of[parent]
                root = f"{run}.root{parent}@elsewhere.example"
                added += [
                    f"In-Reply-To: <{mails[parent].message_id}>".encode(),
                    f"References: <{root}> <{mails[parent].message_id}>".encode(),
                ]
            else:
                sender = persons_seen % senders
                persons_seen += 1
            sender_of[index] = sender
            envelope = f"customer{sender}.{run}@customers.example"
            kept = [f for f in kept if field_name(f) not in SENDER_HEADERS]
            added.append(f"From: Customer {sender} <{envelope}>".encode())
            if not is_reply:
                originals.append(index)
        raw = b"\n".join([*added, *kept]) + b"\n\n" + body
        mails.append(CorpusMail(message_id, raw, envelope, not is_machine, parent))
    return mails


# ------------------------------------------------------------------------------ SMTP


@dataclass
class SendResult:
    accepted: int = 0
    deferred: int = 0
    refused: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] | None = None


def send_over_smtp(port: int, mails: list[CorpusMail], recipient: str, connections: int):
    """Send every mail over `connections` SMTP connections at once, as MTAs do: a 4xx
    answer is tried again shortly (counted as deferred), a 5xx is final."""
    done = [threading.Event() for _ in mails]
    position = iter(range(len(mails)))
    lock = threading.Lock()
    result = SendResult(latencies_ms=[])
    counts: Counter = Counter()

    def sender() -> None:
        client = None
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            mail = mails[index]
            if mail.parent is not None:
                done[mail.parent].wait(120)
            started = time.perf_counter()
            for _attempt in range(200):
                try:
                    if client is None:
                        client = smtplib.SMTP(HOST, port, timeout=120)
                    client.sendmail(mail.envelope_sender, [recipient], mail.raw)
                    counts["accepted"] += 1
                    break
                except smtplib.SMTPResponseException as error:
                    code = error.smtp_code
                except smtplib.SMTPRecipientsRefused as error:
                    code = next(iter(error.recipients.values()))[0]
                except (smtplib.SMTPServerDisconnected, OSError):
                    code = 421
                if code >= 500:
                    counts["refused"] += 1
                    break
                counts["deferred"] += 1
                if code == 421 and client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
                    client = None
                else:
                    with contextlib.suppress(Exception):
                        client.rset()
                time.sleep(0.2)
            result.latencies_ms.append(1000 * (time.perf_counter() - started))
            done[index].set()
        if client is not None:
            with contextlib.suppress(Exception):
                client.quit()

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.accepted, result.deferred, result.refused = (
        counts["accepted"],
        counts["deferred"],
        counts["refused"],
    )
    return result


def wait_for_port(port: int, process: ServerProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise SystemExit(f"{process.name} exited during start-up:\n{process.tail()}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"{process.name} did not listen in {timeout} s:\n{process.tail()}")


# ------------------------------------------------------------------------ database


def create_email_channel(env: dict[str, str], name: str, config: dict) -> int:
    code = (
        "from channels_app.services import channel_create; "
        f"print(channel_create(kind='email', name={name!r}, config={config!r}).pk)"
    )
    return int(manage(env, "shell", "-c", code).split()[-1])


def transactions(dsn: str, db_name: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (db_name,)
        ).fetchone()
    return int(row[0]) if row else 0


def load_stored_messages(dsn: str, channel_id: int, count: int, per_conversation: int = 10):
    """`count` email messages with Message-IDs on the channel, as a mailbox in use for a
    year holds: customers with email identities, conversations of `per_conversation`."""
    conversations = max(1, count // per_conversation)
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Stored ' || i, 'stored' || i || '@customers.example', '', "
            "'{}', now(), now() FROM generate_series(1, %s) i",
            (conversations,),
        )
        cursor.execute(
            "INSERT INTO customers_identity (customer_id, kind, value, is_reachable, created_at) "
            "SELECT id, 'email', email, true, now() FROM customers_customer "
            "WHERE email LIKE 'stored%%@customers.example'"
        )
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, last_message_at, created_at, updated_at) "
            "SELECT id, %s, email, 'resolved', 'none', 'Order ' || id, now(), now(), now() "
            "FROM customers_customer WHERE email LIKE 'stored%%@customers.example' ORDER BY id "
            "RETURNING id",
            (channel_id,),
        )
        conversation_ids = [row[0] for row in cursor.fetchall()]
        columns = (
            "conversation_id, channel_id, direction, body, body_full, body_html, is_private, "
            "status, error, external_id, delivery_attempts, created_at, updated_at"
        )
        stamp = "2025-06-01 12:00:00+00"
        with cursor.copy(f"COPY inbox_message ({columns}) FROM STDIN") as copy:
            chunk: list[str] = []
            for number in range(count):
                conversation = conversation_ids[number // per_conversation % len(conversation_ids)]
                inbound = number % 2 == 0
                external_id = (
                    f"stored.{number}@customers.example"
                    if inbound
                    else f"switchboard.{number}.0123456789@bench.example"
                )
                body = f"Message {number} about order {conversation}, with a few words more"
                status = "received" if inbound else "sent"
                chunk.append(
                    f"{conversation}\t{channel_id}\t{'in' if inbound else 'out'}\t{body}\t\t\t"
                    f"f\t{status}\t{{}}\t{external_id}\t0\t{stamp}\t{stamp}\n"
                )
                if len(chunk) == 10_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def check_intake(dsn: str, channel_id: int, mails: list[CorpusMail]) -> str:
    """One line: what the phase stored, and whether the threading is right."""
    ids = [mail.message_id for mail in mails]
    with psycopg.connect(dsn, autocommit=True) as connection:
        conversation_of = dict(
            connection.execute(
                "SELECT external_id, conversation_id FROM inbox_message "
                "WHERE channel_id = %s AND direction = 'in' AND external_id = ANY(%s)",
                (channel_id, ids),
            ).fetchall()
        )
        hashes = connection.execute(
            "SELECT count(*) FROM channels_app_webhookevent WHERE channel_id = %s "
            "AND created_at > now() - interval '1 hour'",
            (channel_id,),
        ).fetchone()[0]
    persons = [mail for mail in mails if mail.is_person]
    replies = [mail for mail in persons if mail.parent is not None]
    threaded = sum(
        1
        for mail in replies
        if mail.message_id in conversation_of
        and conversation_of[mail.message_id] == conversation_of.get(mails[mail.parent].message_id)
    )
    machine_opened = sum(
        1 for mail in mails if not mail.is_person and mail.message_id in conversation_of
    )
    stored = sum(1 for mail in persons if mail.message_id in conversation_of)
    conversations = len(
        {conversation_of[m.message_id] for m in persons if m.message_id in conversation_of}
    )
    return (
        f"{threaded} of {len(replies)} replies threaded into their parent's conversation; "
        f"{stored} of {len(persons)} person mails stored in {conversations} conversations "
        f"(expected {len(persons) - len(replies)}); {len(mails) - len(persons)} bounces and "
        f"list mails opened {machine_opened}; raw events on the channel {hashes}"
    )


# ----------------------------------------------------------------- pg_stat_statements


def server_statements_start(dsn: str) -> bool:
    """Resets pg_stat_statements for a phase where the server has it loaded
    (`shared_preload_libraries`); False where it has not, as on the shared machines."""
    try:
        # One transaction: where the library is not loaded, the extension is not left behind.
        with psycopg.connect(dsn) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            connection.execute("SELECT pg_stat_statements_reset()")
        return True
    except psycopg.Error:
        return False


def server_statements_report(dsn: str, db_name: str, label: str, emails: int) -> None:
    """The server's own time per statement (execution and planning) during the phase."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, calls, total_exec_time, total_plan_time FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s "
            "ORDER BY total_exec_time + total_plan_time DESC LIMIT 12",
            (db_name,),
        ).fetchall()
    total = sum(row[2] + row[3] for row in rows)
    log(f"{label} pg_stat_statements: {total / emails:.2f} ms per email in the top statements")
    for query, calls, exec_ms, plan_ms in rows:
        text = " ".join(query.split())
        log(
            f"  {exec_ms / emails:6.3f} ms exec + {plan_ms / emails:6.3f} ms plan per email, "
            f"{calls / emails:4.2f}x  {text[:130]}{'...' if len(text) > 130 else ''}"
        )


# ------------------------------------------------------------------------------ phases


def peak_rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def smtp_phase(label, args, server, port, dsn, channel_id, address, connections) -> dict:
    run = f"{re.sub(r'[^a-z0-9]+', '-', label)}-{secrets.token_hex(3)}"
    mails = build_corpus(args.emails, args.senders, args.replies, run)
    meter = CpuMeter(server.proc.pid, args.db_name, separate_background=True)
    commits_before = transactions(dsn, args.db_name)
    has_server_statements = server_statements_start(dsn)
    before = meter.snapshot()
    sent = send_over_smtp(port, mails, address, connections)
    after = meter.snapshot()
    commits = transactions(dsn, args.db_name) - commits_before
    rate = sent.accepted / sent.seconds
    log(
        f"{label}, {connections} connections: {sent.accepted} of {len(mails)} accepted in "
        f"{sent.seconds:.1f} s = {rate:.0f} emails/s end to end (deferred {sent.deferred}, "
        f"refused {sent.refused})"
    )
    log(f"{label} per email, send to 250: {pct_line(sent.latencies_ms or [])}")
    log(f"{label} " + CpuMeter.delta_line(before, after, len(mails), "email"))
    log(
        f"{label} postgres transactions {commits / len(mails):.2f} per email; server peak "
        f"RSS {peak_rss_mb(server.proc.pid):.0f} MB"
    )
    log(f"{label} threading: {check_intake(dsn, channel_id, mails)}")
    if has_server_statements:
        server_statements_report(dsn, args.db_name, label, len(mails))
    used = CpuMeter.delta(before, after)
    return {
        "rate": rate,
        "server": 1000 * used.get("server", 0) / len(mails),
        "postgres": 1000 * used.get("postgres", 0) / len(mails),
    }


def imap_phase(args, env, dsn, data_dir: Path) -> None:
    from celery import Celery

    from tests.mail_servers import DovecotServer, dovecot_available

    if not dovecot_available():
        log("imap: skipped, dovecot is not installed")
        return
    mailbox = DovecotServer(username=MAILBOX_USER).start()
    worker = None
    try:
        mails = build_corpus(
            args.emails, args.senders, args.replies, f"imap-{secrets.token_hex(3)}"
        )
        client = mailbox.client()
        for mail in mails:
            client.append("INBOX", None, None, mail.raw)
        client.logout()
        channel_id = create_email_channel(
            env,
            "Bench mailbox",
            {
                "address": MAILBOX_USER,
                "imap_host": HOST,
                "imap_port": mailbox.port,
                "imap_use_ssl": False,
                "imap_username": MAILBOX_USER,
                "imap_password": mailbox.password,
            },
        )
        queue = env["CELERY_TASK_DEFAULT_QUEUE"]
        argv = [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue),
            *("--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle"),
        ]
        worker = ServerProcess("worker", argv, env, data_dir / "worker.log")
        time.sleep(4)
        broker = Celery(broker=env["REDIS_URL"])
        meter = CpuMeter(worker.proc.pid, args.db_name, separate_background=True)
        before = meter.snapshot()
        started = time.perf_counter()
        polls, stored, last_polled = 0, 0, None
        with psycopg.connect(dsn, autocommit=True) as connection:
            while stored < len(mails) and time.perf_counter() - started < args.imap_timeout:
                state = connection.execute(
                    "SELECT last_polled_at FROM channels_app_mailboxstate WHERE channel_id = %s",
                    (channel_id,),
                ).fetchone()
                if polls == 0 or (state and state[0] != last_polled):
                    # The previous poll ended (its batch was full): ask for the next one,
                    # as beat would at its next tick.
                    last_polled = state[0] if state else None
                    broker.send_task(
                        "channels_app.tasks.mailbox_poll", args=[channel_id], queue=queue
                    )
                    polls += 1
                stored = connection.execute(
                    "SELECT count(*) FROM channels_app_webhookevent WHERE channel_id = %s",
                    (channel_id,),
                ).fetchone()[0]
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        after = meter.snapshot()
        log(
            f"imap: {stored} of {len(mails)} imported in {seconds:.1f} s = "
            f"{stored / seconds:.0f} emails/s end to end ({polls} poll tasks)"
        )
        log("imap " + CpuMeter.delta_line(before, after, max(stored, 1), "email"))
        log(f"imap threading: {check_intake(dsn, channel_id, mails)}")
    finally:
        if worker is not None:
            worker.stop()
        mailbox.stop()


# ------------------------------------------------------------------ statement timing


def statements_child() -> None:
    """Runs in a subprocess: the email path in-process, each SQL statement timed from the
    client and grouped by its text, the reads EXPLAINed with their real parameters."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from channels_app.contracts import PayloadMalformed
    from channels_app.models import Channel
    from channels_app.services import mail_receive

    channel = Channel.objects.get(pk=int(os.environ["BENCH_CHANNEL_ID"]))
    mails = build_corpus(96, 20, 20, f"statements-{secrets.token_hex(3)}")
    timings: dict[str, list[float]] = defaultdict(list)
    examples: dict[str, tuple] = {}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings[sql].append(1000 * (time.perf_counter() - started))
            examples.setdefault(sql, params)

    with connection.execute_wrapper(timed):
        for mail in mails:
            # A report with no usable sender is kept as a failed raw event, as on a server.
            with contextlib.suppress(PayloadMalformed):
                mail_receive(channel=channel, raw=mail.raw, envelope_sender=mail.envelope_sender)
    plans = {}
    with connection.cursor() as cursor:
        for sql, params in examples.items():
            if sql.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in sql.upper():
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                lines = [row[0].strip() for row in cursor.fetchall()]
                plans[sql] = [line for line in lines if "Scan" in line or "Execution" in line]
    rows = [
        {"sql": sql, "count": len(times), "ms": sum(times), "plan": plans.get(sql, [])}
        for sql, times in timings.items()
    ]
    print("BENCH-JSON " + json.dumps({"emails": len(mails), "statements": rows}))


def statement_report(env: dict[str, str], channel_id: int, label: str) -> None:
    child_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "BENCH_CHANNEL_ID": str(channel_id),
    }
    completed = subprocess.run(
        [sys.executable, __file__, "--statements-child"],
        cwd=BENCH_DIR.parent, env=child_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    line = next(
        (row for row in completed.stdout.splitlines() if row.startswith("BENCH-JSON ")), None
    )
    if line is None:
        log(f"statements: could not measure ({completed.returncode})\n{completed.stderr[-3000:]}")
        return
    result = json.loads(line[len("BENCH-JSON ") :])
    emails, rows = result["emails"], result["statements"]
    total = sum(row["ms"] for row in rows)
    log(
        f"statements {label}: {sum(row['count'] for row in rows) / emails:.1f} per email, "
        f"{total / emails:.2f} ms per email waiting on PostgreSQL (client-timed, in-process)"
    )
    for row in sorted(rows, key=lambda row: -row["ms"])[:14]:
        sql = " ".join(row["sql"].split())
        log(
            f"  {row['ms'] / emails:6.3f} ms/email  {row['count'] / emails:4.2f}x  "
            f"{sql[:150]}{'...' if len(sql) > 150 else ''}"
        )
        for plan_line in row["plan"]:
            log(f"        {plan_line}")


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", "--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--burst-connections", type=int, default=20)
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--imap-timeout", type=float, default=120.0)
    parser.add_argument("--phases", default="fresh,burst,stored,imap,statements")
    parser.add_argument("--db-name", default="switchboard_bench_email")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--statements-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.statements_child:
        statements_child()
        return
    if args.emails > 5000 or args.stored > 2_000_000:
        raise SystemExit("bounded benchmark: at most 5,000 emails and 2M stored messages")
    phases = set(args.phases.split(","))

    wall_started = time.monotonic()
    log_machine()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-email-"))
    env = bench_env(db_name=args.db_name, redis_db=args.redis_db, data_dir=data_dir)
    dsn = bench_dsn(args.db_name)
    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    manage(env, "migrate", "--noinput", "-v", "0")
    fresh = create_email_channel(env, "Bench fresh", {"address": "support@fresh.bench.example"})
    stored = create_email_channel(env, "Bench stored", {"address": "support@stored.bench.example"})
    port = free_port()
    server = ServerProcess(
        "smtp_inbound",
        [sys.executable, str(MANAGE), "smtp_inbound", "--host", HOST, "--port", str(port)],
        env,
        data_dir / "smtp.log",
    )
    results = {}
    try:
        wait_for_port(port, server)
        # First use imports and connects (the channel layer, the parser's codecs): not a
        # cost per email.
        warm_up = build_corpus(48, 10, 8, f"warm-up-{secrets.token_hex(3)}")
        send_over_smtp(port, warm_up, "support@fresh.bench.example", args.connections)
        if "fresh" in phases:
            results["fresh"] = smtp_phase(
                "smtp fresh channel", args, server, port, dsn, fresh,
                "support@fresh.bench.example", args.connections,
            )  # fmt: skip
        if "burst" in phases:
            smtp_phase(
                "smtp burst", args, server, port, dsn, fresh,
                "support@fresh.bench.example", args.burst_connections,
            )  # fmt: skip
        if "stored" in phases or "statements" in phases:
            started = time.monotonic()
            load_stored_messages(dsn, stored, args.stored)
            note(
                f"loaded {args.stored} stored email messages in {time.monotonic() - started:.0f} s"
            )
        if "stored" in phases:
            results["stored"] = smtp_phase(
                f"smtp channel with {args.stored} stored", args, server, port, dsn, stored,
                "support@stored.bench.example", args.connections,
            )  # fmt: skip
    finally:
        server.stop()
    if "fresh" in results and "stored" in results:
        a, b = results["fresh"], results["stored"]
        log(
            f"stored/fresh: emails/s {b['rate'] / a['rate']:.2f}, server cpu "
            f"{b['server'] / a['server']:.2f}, postgres cpu {b['postgres'] / a['postgres']:.2f}"
        )
    if "imap" in phases:
        imap_phase(args, env, dsn, data_dir)
    if "statements" in phases:
        statement_report(env, stored, f"on the channel with {args.stored} stored")
    log(f"bench wall time {time.monotonic() - wall_started:.0f} s")


if __name__ == "__main__":
    main()
