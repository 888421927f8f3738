"""Push-channel latency: 1,000 subscribers of the whitelist feed on one gateway process, a
burst of 10,000 whitelist changes committed by another process.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python bench/bench_subscriptions.py
    python bench/bench_subscriptions.py --subscribers 200 --changes 2000 --per-transaction 50

Processes (PostgreSQL; the named database is created if missing, emptied and migrated):
`mcks serve` (one process, the subscribers' gateway), `mcks worker` (the job worker, idle
here but running as in production), a writer process that commits the burst through the
use case (`registry_changes.add_to_whitelist`, `--per-transaction` changes per transaction,
as fast as it can) and records each commit's time, and this process, which holds the
subscribers (`whitelistChanges(after:, first: 1000) { items { cursor imei } pageInfo {
endCursor } }` over graphql-transport-ws) and stamps each message on arrival.

Printed: commit-to-delivery latency over every (subscriber, change) pair — p50, p99, max —
and the check that every subscriber received every change exactly once, in feed order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.imei import luhn_check_digit
from resolvers.settings import Settings, configure, normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-bench-secret-key"
TOKEN = "mcks_demo_operator_token"
TAC = "35693803"
QUERY = (
    "subscription($after: String) { whitelistChanges(after: $after, first: 1000) "
    "{ items { cursor imei } pageInfo { endCursor } } }"
)


def imei(serial: int) -> str:
    body = f"{TAC}{serial:06d}"
    return body + luhn_check_digit(body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the database --------------------------------------------------------------------------


async def prepare(url: str) -> str:
    """Create (if needed), migrate and empty the database; the feed's cursor at its end."""
    import asyncpg

    from gateway.db import close_db, init_db, migrate
    from gateway.demo import load_demo

    dsn = url.replace("postgres://", "postgresql://", 1)
    name = dsn.rsplit("/", 1)[1].split("?", 1)[0]
    admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    configure(Settings(env="test", secret_key=SECRET, database_url=url))
    await migrate(url)
    db = await asyncpg.connect(dsn)
    try:
        await db.execute("TRUNCATE whitelist_entry, whitelist_change RESTART IDENTITY")
    finally:
        await db.close()
    await init_db(url)
    try:
        await load_demo()
    finally:
        await close_db()
    return ""


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MCKS_ENV": "test",
        "MCKS_SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "MCKS_IN_PROCESS_WORKER": "0",
        "MCKS_GRAPHQL_IDE": "0",
        "MCKS_LOG_LEVEL": "WARNING",
        "MCKS_ACCESS_LOG": "0",
        # Every subscriber is the one demo operator: no per-client cap here.
        "MCKS_WS_MAX_CONNECTIONS_PER_CLIENT": "0",
    }


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the gateway did not start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the gateway did not answer within 60 s")


# --- the writer (its own process) ----------------------------------------------------------


async def write_burst(url: str, first: int, changes: int, per_transaction: int) -> None:
    """Commit the burst; print one JSON line per transaction: first serial, count, commit
    time (the wall clock is shared by the processes of this machine)."""
    from tortoise.transactions import in_transaction

    from gateway.db import close_db, init_db
    from models.registry import WhitelistSource
    from resolvers import registry_changes
    from resolvers.actor import Actor

    configure(Settings(env="test", secret_key=SECRET, database_url=url))
    await init_db(url)
    actor = Actor.system("bench-writer")
    records = []
    try:
        for start_serial in range(first, first + changes, per_transaction):
            count = min(per_transaction, first + changes - start_serial)
            additions = [
                registry_changes.WhitelistAddition(imei(n), "APPLE", "A2403", WhitelistSource.STAFF)
                for n in range(start_serial, start_serial + count)
            ]
            async with in_transaction():
                await registry_changes.add_to_whitelist(actor, additions, reason="bench")
            records.append((start_serial, count, time.time()))
    finally:
        await close_db()
    print(json.dumps(records), flush=True)


# --- the subscribers (this process) --------------------------------------------------------


class Subscriber:
    def __init__(self, index: int) -> None:
        self.index = index
        self.messages: list[tuple[float, str]] = []
        self.done = asyncio.Event()
        self.until = ""
        self.socket: Any = None

    async def open(self, url: str, after: str) -> None:
        from websockets.asyncio.client import connect

        self.socket = await connect(
            url,
            subprotocols=["graphql-transport-ws"],
            compression=None,
            max_size=None,
            open_timeout=120,
            ping_interval=None,
        )
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKEN}"}}
        await self.socket.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self.socket.recv(), 120))
        assert ack["type"] == "connection_ack", ack
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": QUERY, "variables": {"after": after or None}},
        }
        await self.socket.send(json.dumps(subscribe))

    async def receive(self) -> None:
        async for raw in self.socket:
            self.messages.append((time.time(), raw))
            if self.until and self.until in raw:
                self.done.set()


async def measure(args: argparse.Namespace, url: str, ws_url: str) -> int:
    subscribers = [Subscriber(i) for i in range(args.subscribers)]
    started = time.perf_counter()
    for chunk in range(0, len(subscribers), 50):  # do not flood the accept queue
        await asyncio.gather(*(s.open(ws_url, "") for s in subscribers[chunk : chunk + 50]))
    readers = [asyncio.create_task(s.receive()) for s in subscribers]
    print(f"{len(subscribers)} subscribers connected in {time.perf_counter() - started:.1f} s")

    # Warm-up: one change every subscriber must see before the burst (all are live).
    warm = imei(0)
    for s in subscribers:
        s.until = warm
    await run_writer(url, 0, 1, 1)
    await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in subscribers)), 120)
    for s in subscribers:
        s.messages.clear()
        s.done.clear()
        s.until = imei(args.changes)  # the burst's last IMEI

    print(f"burst: {args.changes} changes, {args.per_transaction} per transaction")
    writer_started = time.time()
    commits = await run_writer(url, 1, args.changes, args.per_transaction)
    wrote = commits[-1][2] - writer_started
    await asyncio.wait_for(
        asyncio.gather(*(s.done.wait() for s in subscribers)), args.timeout_seconds
    )
    for task in readers:
        task.cancel()
    for s in subscribers:
        await s.socket.close()

    committed_at: dict[str, float] = {}
    for first, count, at in commits:
        for n in range(first, first + count):
            committed_at[imei(n)] = at
    expected = [imei(n) for n in range(1, args.changes + 1)]
    histogram: Counter[int] = Counter()
    worst = 0.0
    broken = 0
    for s in subscribers:
        got: list[str] = []
        for at, raw in s.messages:
            message = json.loads(raw)
            assert message["type"] == "next", message
            for item in message["payload"]["data"]["whitelistChanges"]["items"]:
                got.append(item["imei"])
                latency = at - committed_at[item["imei"]]
                histogram[int(latency * 1000)] += 1
                worst = max(worst, latency)
        if got != expected:
            broken += 1
    total = sum(histogram.values())

    def percentile(share: float) -> int:
        seen = 0
        for ms in sorted(histogram):
            seen += histogram[ms]
            if seen >= share * total:
                return ms
        return 0

    messages = sum(len(s.messages) for s in subscribers)
    print(
        f"writer: {len(commits)} transactions committed in {wrote:.2f} s; "
        f"{messages} messages, {total} deliveries"
    )
    print(
        f"commit-to-delivery latency: p50 {percentile(0.50)} ms, p99 {percentile(0.99)} ms, "
        f"max {worst * 1000:.0f} ms"
    )
    print(
        f"every subscriber got every change once, in order: "
        f"{'yes' if broken == 0 else f'NO ({broken} subscribers differ)'}"
    )
    return 0 if broken == 0 else 1


async def run_writer(url: str, first: int, changes: int, per_transaction: int) -> list[Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--role",
        "writer",
        "--first",
        str(first),
        "--changes",
        str(changes),
        "--per-transaction",
        str(per_transaction),
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the writer failed")
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--role", choices=("bench", "writer"), default="bench")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--timeout-seconds", type=float, default=600)
    args = parser.parse_args()
    url = normalise_database_url(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/mcks_bench")
    )
    if not url.startswith("postgres://"):
        print("bench_subscriptions needs PostgreSQL (DATABASE_URL=postgresql://...)")
        return 2
    if args.role == "writer":
        asyncio.run(write_burst(url, args.first, args.changes, args.per_transaction))
        return 0
    asyncio.run(prepare(url))
    port = free_port()
    env = server_env(url)
    server = start([sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)], env)
    worker = start([sys.executable, "-m", "gateway.cli", "worker"], env)
    try:
        wait_healthy(port, server)
        return asyncio.run(measure(args, url, f"ws://127.0.0.1:{port}/graphql"))
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
