#!/usr/bin/env python
"""Realtime edge benchmark: what an idle operator socket costs, and how fast a webhook's
`message.created` reaches 50 connected operators.

Starts `manage.py serve --part realtime --workers 1` (one ASGI process: uvicorn, the
websockets and the webhooks' fast path) in production mode on a database of its own, and
prints:

- idle sockets: the ASGI process's RSS growth per authenticated operator socket, over
  `--idle-sockets` sockets (1,000) opened by a lean client;
- fan-out: `--operators` operators (50) connected, signed API-channel webhooks posted at
  an open-loop `--rate` (100/s) for `--duration` s (10); POST-send -> `message.created`
  frame at every operator, p50/p90/p99/max over all (message, operator) pairs, frames
  missing, and CPU milliseconds per message by process.

Usage: .venv/bin/python bench/realtime.py [--idle-sockets 1000] [--operators 50]
See bench/README.md. Only 127.0.0.1 is contacted; everything is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

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
    log,
    log_machine,
    manage,
    note,
    pct_line,
    recreate_database,
)
from ingest import make_payload

SETUP_SCRIPT = """
import json
from channels_app import services as channel_services
from inbox import people
team = people.team_get_or_create(name="Bench")
channel = channel_services.channel_create(
    kind="api", name="bench", config={"secret": SECRET, "callback_url": "http://127.0.0.1:9/"}
)
channel.teams.set([team])
tokens = [
    people.operator_api_token(
        user=people.operator_create(username=f"operator{i}", role="operator", teams=[team])
    )
    for i in range(OPERATORS)
]
print(json.dumps({"public_id": str(channel.public_id), "tokens": tokens}))
"""


# ---------------------------------------------------------------- lean websocket client


class OperatorSocket(asyncio.Protocol):
    """A websocket client as small as the benchmark needs: the handshake, unmasked server
    frames parsed in place, pings answered. The `websockets` library costs several times
    more CPU per frame, which on 2 cores would be taken from the server measured."""

    def __init__(self, path: str, token: str, on_text) -> None:
        self.path, self.token, self.on_text = path, token, on_text
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed_code: int | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Token {self.token}\r\n\r\n"
        )
        transport.write(request.encode())

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.opened.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b" ", 2)[1]
            del self.buffer[: end + 4]
            if status != b"101":
                self.opened.set_exception(ConnectionError(f"handshake answered {status!r}"))
                return
            self.opened.set_result(None)
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack_from(">H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack_from(">Q", buffer, 2)[0], 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == 1:
                self.on_text(payload, now)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                self.closed_code = struct.unpack(">H", payload[:2])[0] if payload else 1005
                self.transport.close()  # type: ignore[union-attr]

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)  # type: ignore[union-attr]

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if self.closed_code is None:
            self.closed_code = 1006

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, struct.pack(">H", 1000))
            self.transport.close()


async def open_socket(port: int, token: str, on_text=lambda payload, now: None) -> OperatorSocket:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: OperatorSocket("/ws/inbox/", token, on_text), HOST, port
    )
    await asyncio.wait_for(protocol.opened, 15)
    return protocol


# ----------------------------------------------------------------------------- server


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no RSS for {pid}")


async def wait_until_answering(server: ServerProcess, port: int) -> None:
    client = RawClient(HOST, port, 1)
    deadline = time.perf_counter() + 60
    while True:
        if server.proc.poll() is not None:
            raise SystemExit("server exited during start-up:\n" + server.tail())
        try:
            status, _ = await client.request("GET", "/healthz/")
            if status == 200:
                break
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise SystemExit("server did not answer within 60 s:\n" + server.tail())
        await asyncio.sleep(0.2)
    await client.aclose()


async def settle_rss(pid: int, seconds: float = 3.0) -> int:
    """RSS once it stops moving (the server finishes connect work after the handshake)."""
    await asyncio.sleep(seconds)
    return rss_kb(pid)


# ------------------------------------------------------------------------------ phases


async def phase_idle(args, port: int, pid: int, tokens: list[str]) -> None:
    # A few sockets first, so imports, pools and caches a first socket brings are not counted.
    warm = [await open_socket(port, tokens[i % len(tokens)]) for i in range(20)]
    before = await settle_rss(pid)
    sockets: list[OperatorSocket] = []
    started = time.perf_counter()
    for start in range(0, args.idle_sockets, 50):
        batch = range(start, min(start + 50, args.idle_sockets))
        sockets += await asyncio.gather(
            *(open_socket(port, tokens[i % len(tokens)]) for i in batch)
        )
    opened_in = time.perf_counter() - started
    after = await settle_rss(pid, 5.0)
    closed = sum(1 for socket in sockets if socket.closed_code is not None)
    log(
        f"idle sockets: {len(sockets)} opened in {opened_in:.1f} s ({closed} closed by the "
        f"server); ASGI process RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB = "
        f"{(after - before) / len(sockets):.1f} KB per socket"
    )
    for socket in sockets + warm:
        socket.close()
    await asyncio.sleep(2)


async def phase_fan_out(args, port, pid, tokens, public_id, secret, dsn) -> None:
    received: list[dict[str, float]] = [{} for _ in range(args.operators)]

    def recorder(index: int):
        frames = received[index]

        def on_text(payload: bytes, now: float) -> None:
            if b'"message.created"' not in payload:
                return
            event = json.loads(payload)
            if event.get("type") == "message.created":
                frames.setdefault(event["message"]["external_id"], now)

        return on_text

    sockets = [
        await open_socket(port, tokens[i % len(tokens)], recorder(i)) for i in range(args.operators)
    ]
    path = f"/webhooks/api/{public_id}/"
    client = RawClient(HOST, port, args.max_in_flight)
    await client.warm(16)
    headers = {"Content-Type": "application/json"}

    async def post(body: bytes, signature: str) -> int:
        status, _ = await client.post(path, body, {**headers, "X-Switchboard-Signature": signature})
        return status

    # Warm-up: known senders for the fast path, and the server's pools.
    warm = [make_payload(secret, f"w-{i}", i % args.senders, "warm-up") for i in range(200)]
    for start in range(0, len(warm), 16):
        await asyncio.gather(*(post(*item) for item in warm[start : start + 16]))
    await asyncio.sleep(2)

    run = secrets.token_hex(3)
    total = int(args.rate * args.duration)
    rng = random.Random(7)
    payloads = [
        (f"{run}-{i}", *make_payload(secret, f"{run}-{i}", rng.randrange(args.senders), f"hi {i}"))
        for i in range(total)
    ]
    sent_at: dict[str, float] = {}
    statuses: dict[object, int] = {}
    tasks: set[asyncio.Task] = set()

    async def send(external_id: str, body: bytes, signature: str) -> None:
        sent_at[external_id] = time.perf_counter()
        try:
            status: object = await asyncio.wait_for(post(body, signature), 30)
        except Exception as error:
            status = type(error).__name__
        statuses[status] = statuses.get(status, 0) + 1

    meter = CpuMeter(pid, args.db_name)
    freeze_client_heap()
    cpu_before = meter.snapshot()
    t0 = time.perf_counter() + 0.05
    skipped = 0
    for index, (external_id, body, signature) in enumerate(payloads):
        delay = t0 + index / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= args.max_in_flight:
            skipped += 1
            continue
        task = asyncio.create_task(send(external_id, body, signature))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks), timeout=30)
    deadline = time.perf_counter() + 10
    expected = len(sent_at) * len(sockets)
    while time.perf_counter() < deadline:
        if all(external_id in frames for frames in received for external_id in sent_at):
            break
        await asyncio.sleep(0.1)
    cpu_after = meter.snapshot()
    latencies = [
        1000 * (frames[external_id] - sent)
        for frames in received
        for external_id, sent in sent_at.items()
        if external_id in frames
    ]
    log(
        f"fan-out @{args.rate:.0f}/s for {args.duration:.0f} s to {len(sockets)} operators: "
        f"{len(sent_at)} posted ({skipped} skipped), HTTP {sorted(statuses.items(), key=str)}, "
        f"frames missing {expected - len(latencies)} of {expected}"
    )
    log(f"fan-out POST-send -> message.created at each operator: {pct_line(latencies)}")
    log("fan-out " + CpuMeter.delta_line(cpu_before, cpu_after, max(len(sent_at), 1)))
    await client.aclose()
    for socket in sockets:
        socket.close()


async def run(args, env, dsn, setup) -> None:
    port = free_port()
    data_dir = Path(env["SWITCHBOARD_DATA_DIR"])
    argv = [sys.executable, str(MANAGE), "serve", "--part", "realtime", "--workers", "1"]
    server = ServerProcess(
        "serve", [*argv, "--host", HOST, "--port", str(port)], env, data_dir / "server.log"
    )
    try:
        await wait_until_answering(server, port)
        pid = server.proc.pid
        note(f"server pid {pid} on port {port}")
        if args.idle_sockets:
            await phase_idle(args, port, pid, setup["tokens"])
        if args.operators:
            await phase_fan_out(
                args, port, pid, setup["tokens"], setup["public_id"], setup["secret"], dsn
            )
    finally:
        if server.proc.poll() is not None:
            log("server exited early:\n" + server.tail())
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-sockets", type=int, default=1000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of webhooks")
    parser.add_argument("--senders", type=int, default=100, help="distinct senders")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--db-name", default="switchboard_bench_realtime")
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args()
    if args.idle_sockets > 5000 or args.rate * args.duration > 5000:
        raise SystemExit("bounded benchmark: at most 5,000 sockets and 5,000 webhooks")

    log_machine()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-realtime-"))
    env = bench_env(db_name=args.db_name, redis_db=args.redis_db, data_dir=data_dir)
    dsn = bench_dsn(args.db_name)
    note(f"fresh database {args.db_name}")
    recreate_database(args.db_name)
    manage(env, "migrate", "--noinput", "-v", "0")
    secret = secrets.token_hex(16)
    script = SETUP_SCRIPT.replace("SECRET", repr(secret)).replace(
        "OPERATORS", str(args.operators or 50)
    )
    setup = json.loads(manage(env, "shell", "-c", script).strip().splitlines()[-1])
    setup["secret"] = secret
    try:
        asyncio.run(run(args, env, dsn, setup))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    log_machine()


if __name__ == "__main__":
    main()
