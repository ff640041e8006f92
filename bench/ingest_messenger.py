"""Messenger webhooks in, end to end: signed the way Meta signs them.

The Messenger variant of ingest.py: the same fresh database, inbox of earlier
conversations, server and operator websocket, but a Messenger channel created through
the API and webhooks shaped as a page's `messages` deliveries (one messaging item each,
as Meta mostly sends them), signed with `X-Hub-Signature-256` (HMAC-SHA256 of the body
keyed with the app secret). A known sender's plain message takes the batched path; each
sender's first message goes the regular way (which then asks Meta for the name), as do
echoes, watermarks, reactions and several events a request. Prints msg/s end to end
(stored rows ÷ first POST to last `message.created` frame), HTTP statuses, response times
and CPU per message.

    .venv/bin/python bench/ingest_messenger.py [--messages 3000] [--concurrency 48]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

from benchlib import (
    HOST,
    CpuMeter,
    bench_dsn,
    bench_env,
    free_port,
    freeze_client_heap,
    log,
    manage,
    note,
    pct_line,
    recreate_database,
)
from ingest import (
    FrameRecorder,
    Poster,
    Server,
    committed_transactions,
    count_messages,
    make_client,
    seed_existing_inbox,
    sign,
    status_line,
    transactions_since,
)

PAGE_ID = "104650038930722"
SIGNATURE_HEADER = "X-Hub-Signature-256"
# Page-scoped ids of the bench's customers start here (digits, as Meta's are).
FIRST_PSID = 7_100_000_000_000_000


def make_messenger_payload(app_secret: str, mid: str, sender: int, text: str) -> tuple[bytes, str]:
    now_ms = int(time.time() * 1000)
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": now_ms,
                    "messaging": [
                        {
                            "sender": {"id": str(FIRST_PSID + sender)},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": now_ms,
                            "message": {"mid": mid, "text": text},
                        }
                    ],
                }
            ],
        },
        separators=(",", ":"),
    ).encode()
    return body, sign(app_secret, body)


async def post_all(args, port, path, items) -> Poster:
    client = make_client(args, port, args.concurrency)
    await client.warm()
    poster = Poster(client, path, signature_header=SIGNATURE_HEADER)
    queue = iter(items)
    deadline = time.perf_counter() + args.phase_timeout

    async def worker() -> None:
        for mid, body, signature in queue:
            if time.perf_counter() > deadline:
                poster.statuses["not sent (phase timeout)"] += 1
                continue
            await poster.post(mid, body, signature)

    try:
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    finally:
        await client.aclose()
    return poster


async def phase_throughput(args, port, path, app_secret, recorder, dsn, meter) -> float:
    prefix = f"m_bench{secrets.token_hex(3)}_"
    items = [
        (
            f"{prefix}{i}",
            *make_messenger_payload(app_secret, f"{prefix}{i}", i % args.senders, f"hello {i}"),
        )
        for i in range(args.messages)
    ]
    freeze_client_heap()
    transactions_before = committed_transactions(dsn)
    cpu_before = meter.snapshot()
    started = time.perf_counter()
    poster = await post_all(args, port, path, items)
    last_response = time.perf_counter()
    ids = [item[0] for item in items if item[0] in poster.done_at]
    missing = await recorder.wait_for(ids, timeout=15)
    cpu_after = meter.snapshot()
    frames = [recorder.received[i] for i in ids if i in recorder.received]
    end = max(frames) if frames and not missing else last_response
    stored = count_messages(dsn, prefix)
    elapsed = end - started
    rate = stored / elapsed if elapsed > 0 else 0.0
    http_rate = len(poster.done_at) / (last_response - started)
    log(
        f"messenger ingest: {stored} messages in {elapsed:.2f} s = {rate:.0f} msg/s end to end "
        f"(concurrency {args.concurrency}, {args.senders} senders, {args.client} client; "
        f"HTTP alone {http_rate:.0f} req/s; frames missing {missing})"
    )
    log(f"messenger ingest {status_line(poster)}")
    response_ms = [
        1000 * (poster.done_at[i] - poster.sent_at[i]) for i in ids if i in poster.done_at
    ]
    log(f"messenger ingest POST response time under load: {pct_line(response_ms)}")
    log("messenger ingest " + CpuMeter.delta_line(cpu_before, cpu_after, max(stored, 1)))
    transactions = await transactions_since(dsn, transactions_before)
    log(
        f"messenger ingest postgres transactions: {transactions} for {stored} messages = "
        f"{transactions / max(stored, 1):.2f} per message"
    )
    return rate


async def run(args, server, token, dsn) -> float:
    import httpx

    base = f"http://{HOST}:{server.port}"
    headers = {"Authorization": f"Token {token}"}
    deadline = time.perf_counter() + 60
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while True:
            if server.proc.poll() is not None:
                raise SystemExit("server exited during start-up:\n" + server.tail())
            try:
                if (await client.get("/api/v1/channels/", headers=headers)).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise SystemExit("server did not answer within 60 s:\n" + server.tail())
            await asyncio.sleep(0.2)
        app_secret = secrets.token_hex(16)
        response = await client.post(
            "/api/v1/channels/",
            json={
                "kind": "messenger",
                "name": "bench page",
                "config": {
                    "page_id": PAGE_ID,
                    "page_access_token": "bench-page-token",
                    "app_secret": app_secret,
                    "verify_token": "bench-verify",
                    # Name look-ups queue for a Celery worker the bench does not start;
                    # nothing reaches Meta.
                    "api_base_url": "http://127.0.0.1:9",
                },
            },
            headers=headers,
        )
        if response.status_code != 201:
            raise SystemExit(f"channel create answered {response.status_code}: {response.text}")
        public_id = response.json()["public_id"]
    path = f"/webhooks/messenger/{public_id}/"
    note(f"server on {base}, workers {server.worker_pids()}, channel {public_id}")

    recorder = FrameRecorder(f"ws://{HOST}:{server.port}/ws/inbox/", token, base)
    await recorder.start()
    meter = CpuMeter(server.proc.pid, args.db_name)
    try:
        warm = [
            (
                f"m_warm_{i}",
                *make_messenger_payload(app_secret, f"m_warm_{i}", 10_000 + i % 20, "warm-up"),
            )
            for i in range(args.warmup)
        ]
        warm_args = argparse.Namespace(**{**vars(args), "concurrency": 16})
        poster = await post_all(warm_args, server.port, path, warm)
        await recorder.wait_for([w[0] for w in warm], timeout=10)
        if poster.statuses.get(200, 0) != len(warm):
            log(f"warning: warm-up {status_line(poster)}\n{server.tail()}")
        note(f"warm-up done ({args.warmup} webhooks)")
        return await phase_throughput(args, server.port, path, app_secret, recorder, dsn, meter)
    finally:
        await recorder.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--senders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--phase-timeout", type=float, default=45.0)
    parser.add_argument("--db-name", default="switchboard_bench")
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args()
    if args.messages > 20_000:
        raise SystemExit("bounded benchmark: at most 20,000 requests")

    started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    env = bench_env(db_name=args.db_name, redis_db=args.redis_db, data_dir=data_dir)
    dsn = bench_dsn(args.db_name)
    load1, load5, _ = os.getloadavg()
    log(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    manage(env, "migrate", "--noinput", "-v", "0")
    token = manage(env, "create_operator", "bench", "--role", "admin", "--print-token")
    token = token.strip().splitlines()[-1].strip()
    if args.existing:
        note(f"an inbox with {args.existing} earlier conversations")
        seed_existing_inbox(dsn, args.existing)
    port = free_port()
    env["PUBLIC_BASE_URL"] = f"http://{HOST}:{port}"
    server = Server(env, port, args.workers, data_dir / "server.log")
    try:
        asyncio.run(run(args, server, token, dsn))
    finally:
        server.stop()
        for child in sorted(data_dir.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        data_dir.rmdir()
    log(f"bench wall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
