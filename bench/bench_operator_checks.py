"""Operator IMEI checks under load: a real uvicorn on loopback against 1,000,000 whitelist
entries, driven by a load generator in another process.

    python bench/bench_operator_checks.py                      # SQLite in a temp directory
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mcks_bench \\
        python bench/bench_operator_checks.py                  # PostgreSQL (emptied first!)
    python bench/bench_operator_checks.py --entries 100000 --seconds 5   # a quick look

(a) batches of 1,000 IMEIs (97 % registered, 3 % never seen) — IMEI checks per second;
(b) single-IMEI checks from 50 concurrent keep-alive clients — requests per second, p50/p99:
    first closed loop (the saturation throughput: latency there is queueing, 50 / rate), then
    paced at the offered rates of `--rates` (latency of a gateway that is not saturated).
Targets on a 2-core machine: (a) ≥ 20,000 IMEI checks/s, (b) p99 ≤ 20 ms.

The server is `mcks serve`, as in production: two processes on SQLite (one per core), one
on PostgreSQL, whose own processes share the same two cores here (two gateway processes
leave them none: measured p99 ~19–25 ms instead of ~16 ms).

The PostgreSQL database given is migrated and its list tables are TRUNCATED: use a scratch
database. The load generator speaks minimal HTTP/1.1 over asyncio streams, so the client's
own cost stays small next to the server's; every run is bounded in requests and seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.imei import luhn_check_digit  # noqa: E402

SECRET = "bench-secret-not-for-production"
TOKEN = "mcks_demo_operator_token"
BRANDS = [
    ("APPLE", "A2403"),
    ("SAMSUNG", "SM-G9359"),
    ("XIAOMI", "2201117TG"),
    ("NOKIA", "TA-1203"),
]
TACS = ["35693803", "35332811", "86891504", "35420411"]
QUERY = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei verdict status reason } }"
QUERY_ALL_FIELDS = (
    "query($imeis: [String!]!) { checkImeis(imeis: $imeis) "
    "{ imei verdict status reason brand model graceEndsAt } }"
)


def registered_imei(n: int) -> str:
    first14 = f"{TACS[n % len(TACS)]}{n // len(TACS):06d}"
    return first14 + luhn_check_digit(first14)


def unseen_imei(n: int) -> str:
    first14 = f"35999999{n % 1_000_000:06d}"
    return first14 + luhn_check_digit(first14)


# --- seeding -------------------------------------------------------------------------------


def _entry_rows(count: int, now: datetime) -> Any:
    for n in range(count):
        imei = registered_imei(n)
        brand, model = BRANDS[n % len(BRANDS)]
        yield (imei, imei[:8], brand, model, "REGISTERED", "FIRM_APPLICATION", 1 + n % 50, now)


def _change_rows(count: int, now: datetime) -> Any:
    for imei, _, brand, model, status, source, _, at in _entry_rows(count, now):
        yield (imei, "ADD", status, source, brand, model, "", "bench", at)


ENTRY_COLUMNS = (
    "imei", "tac", "brand", "model_code", "status", "source", "firm_id", "registered_at"
)  # fmt: skip
CHANGE_COLUMNS = (
    "imei", "op", "status", "source", "brand", "model_code", "reason", "actor_name", "at"
)  # fmt: skip
LIST_TABLES = (
    "whitelist_entry", "whitelist_change", "blacklist_entry", "blacklist_change",
    "imei_first_attach", "greylist_change", "imei_pairing", "clone_suspicion",
    "check_quota_window",
)  # fmt: skip


def seed_sqlite(path: str, count: int) -> None:
    now = datetime.now(UTC)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    with db:
        for table in LIST_TABLES:
            db.execute(f"DELETE FROM {table}")
        db.executemany(
            f"INSERT INTO whitelist_entry ({', '.join(ENTRY_COLUMNS)}) VALUES (?,?,?,?,?,?,?,?)",
            _entry_rows(count, now),
        )
        db.executemany(
            f"INSERT INTO whitelist_change ({', '.join(CHANGE_COLUMNS)}) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            _change_rows(count, now),
        )
    db.execute("ANALYZE")
    db.close()


async def seed_postgres(url: str, count: int) -> None:
    import asyncpg

    now = datetime.now(UTC)
    db = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await db.execute(f"TRUNCATE {', '.join(LIST_TABLES)} RESTART IDENTITY")
        # COPY: an order of magnitude faster than INSERTs for a million rows.
        await db.copy_records_to_table(
            "whitelist_entry", records=_entry_rows(count, now), columns=ENTRY_COLUMNS
        )
        await db.copy_records_to_table(
            "whitelist_change", records=_change_rows(count, now), columns=CHANGE_COLUMNS
        )
        # VACUUM too: otherwise autovacuum processes the fresh million rows during the
        # first scenarios and takes a core from them (a steady-state registry has no such
        # backlog).
        await db.execute(f"VACUUM ANALYZE {', '.join(LIST_TABLES)}")
    finally:
        await db.close()


async def prepare(url: str, count: int) -> float:
    from gateway.db import close_db, init_db, migrate
    from gateway.demo import load_demo
    from resolvers.settings import Settings, configure

    configure(Settings(env="test", secret_key=SECRET, database_url=url))
    await migrate(url)
    started = time.perf_counter()
    if url.startswith("sqlite://"):
        seed_sqlite(url[len("sqlite://") :], count)
    else:
        await seed_postgres(url, count)
    seeded = time.perf_counter() - started
    await init_db(url)
    try:
        await load_demo()
    finally:
        await close_db()
    return seeded


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    url: str, port: int, token_cache_seconds: int, workers: int = 1
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MCKS_ENV": "test",
        "MCKS_SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "MCKS_IN_PROCESS_WORKER": "0",
        "MCKS_GRAPHQL_IDE": "0",
        "MCKS_LOG_LEVEL": "WARNING",
        "MCKS_ACCESS_LOG": "0",
        "MCKS_TOKEN_CACHE_SECONDS": str(token_cache_seconds),
        # The load is one client far above any real quota: counted (the quota's cost is
        # measured), never refused.
        "MCKS_CHECK_QUOTA_PER_MINUTE": "100000000",
    }
    # The production entry point: `mcks serve`, its processes each on their own socket.
    command = [
        sys.executable, "-m", "gateway.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    # Ready when every process answers: the port is bound before the processes start, so
    # ask /healthz on many fresh connections (the kernel spreads them across the processes).
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline and answered < 20 * workers:
        if server.poll() is not None:
            raise RuntimeError("the server did not start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as r:
                answered += r.status == 200
        except OSError:
            time.sleep(0.1)
    if answered < 20 * workers:
        server.kill()
        raise RuntimeError("the server did not answer within 60 s")
    return server


# --- the load generator (runs in its own process) ------------------------------------------

WARM_UP_SECONDS = 3.0
CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


class Connection:
    """One keep-alive HTTP/1.1 connection posting GraphQL documents."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, body: bytes) -> bytes:
        head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        header = await self.reader.readuntil(b"\r\n\r\n")
        if not header.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(header.decode(errors="replace"))
        match = CONTENT_LENGTH.search(header)
        assert match, header
        return await self.reader.readexactly(int(match.group(1)))

    def close(self) -> None:
        self.writer.close()


def _body(imeis: list[str], query: str = QUERY) -> bytes:
    return json.dumps({"query": query, "variables": {"imeis": imeis}}).encode()


def _batch(rng: random.Random, entries: int, size: int) -> list[str]:
    return [
        unseen_imei(rng.randrange(10**9))
        if rng.random() < 0.03
        else registered_imei(rng.randrange(entries))
        for _ in range(size)
    ]


async def _batches(port: int, entries: int, seconds: float, clients: int, query: str) -> dict:
    rng = random.Random(1)
    bodies = [_body(_batch(rng, entries, 1000), query) for _ in range(200)]
    done = 0
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def client(index: int) -> None:
        nonlocal done
        connection = Connection(port)
        await connection.open()
        turn = index
        while time.perf_counter() < deadline and done < 10_000_000:
            started = time.perf_counter()
            answer = json.loads(await connection.post(bodies[turn % len(bodies)]))
            latencies.append(time.perf_counter() - started)
            checks = answer["data"]["checkImeis"]
            assert len(checks) == 1000, answer
            if turn == index:
                for check in checks:
                    statuses[check["status"]] = statuses.get(check["status"], 0) + 1
            done += len(checks)
            turn += clients
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "imeis": done,
        "seconds": elapsed,
        "per_second": done / elapsed,
        "batch_p50_ms": statistics.median(latencies) * 1000,
        "sample_statuses": statuses,
    }


async def _singles(port: int, entries: int, seconds: float, clients: int, rate: float) -> dict:
    """`clients` keep-alive connections. rate 0: closed loop (each sends its next request when
    the answer arrives: the saturation throughput). rate > 0: together they offer `rate`
    requests/s on a fixed schedule, and latency counts from the scheduled send time, so a
    slow answer is not hidden by the requests it delayed (no coordinated omission)."""
    rng = random.Random(2)
    bodies = [_body([registered_imei(rng.randrange(entries))]) for _ in range(5000)]
    latencies: list[float] = []
    interval = clients / rate if rate > 0 else 0.0

    async def client(index: int, start: float) -> None:
        connection = Connection(port)
        await connection.open()
        turn = index
        # Warm up, unmeasured: every connection in a closed loop until `start` (the server's
        # processes, their database pools and caches reach their steady state).
        while time.perf_counter() < start:
            await connection.post(bodies[turn % len(bodies)])
            turn += clients
        scheduled = start + interval * index / clients
        deadline = start + seconds
        while scheduled < deadline and len(latencies) < 1_000_000:
            if interval:
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            else:
                scheduled = time.perf_counter()
            answer = await connection.post(bodies[turn % len(bodies)])
            latencies.append(time.perf_counter() - scheduled)
            assert b'"REGISTERED"' in answer, answer
            turn += clients
            scheduled += interval
        connection.close()

    started = time.perf_counter() + WARM_UP_SECONDS
    await asyncio.gather(*(client(i, started) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": elapsed,
        "per_second": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _generate(
    kind: str, port: int, entries: int, seconds: float, clients: int, rate: float, out: Any
) -> None:
    # The load generator shares the machine with the server: keep its own cost small.
    loop_factory: Any = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        if kind == "batches":
            result = runner.run(_batches(port, entries, seconds, clients, QUERY))
        elif kind == "batches_all_fields":
            result = runner.run(_batches(port, entries, seconds, clients, QUERY_ALL_FIELDS))
        else:
            result = runner.run(_singles(port, entries, seconds, clients, rate))
    out.put(result)


def run_load(
    kind: str, port: int, entries: int, seconds: float, clients: int, rate: float = 0.0
) -> dict:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(
        target=_generate, args=(kind, port, entries, seconds, clients, rate, out)
    )
    process.start()
    result: dict = out.get(timeout=seconds + 120)
    process.join(timeout=30)
    return result


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per scenario")
    parser.add_argument("--batch-clients", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--rates",
        default="250,500",
        help="offered request rates (requests/s, all clients together) for the paced runs",
    )
    parser.add_argument("--token-cache-seconds", type=int, default=5)
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes (`mcks serve --workers`); default: 2 on SQLite, 1 on "
        "PostgreSQL (which runs on the same cores here and needs one of them)",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as scratch:
        if not url:
            url = f"sqlite://{Path(scratch) / 'bench.sqlite3'}"
        from resolvers.settings import Settings, normalise_database_url

        url = normalise_database_url(url)
        backend = "SQLite" if url.startswith("sqlite://") else "PostgreSQL"
        print(f"== {backend}: seeding {args.entries:,} whitelist entries", flush=True)
        seeded = asyncio.run(prepare(url, args.entries))
        print(f"   seeded in {seeded:.1f} s", flush=True)
        port = free_port()
        pool_min = os.environ.get("MCKS_DB_POOL_MIN", Settings.db_pool_min)
        pool_max = os.environ.get("MCKS_DB_POOL_MAX", Settings.db_pool_max)
        pool = (
            f", {pool_min}..{pool_max} database connections each" if backend == "PostgreSQL" else ""
        )
        workers = args.workers or (2 if backend == "SQLite" else 1)
        print(f"   server: mcks serve --workers {workers}{pool}", flush=True)
        server = start_server(url, port, args.token_cache_seconds, workers)
        try:
            for kind, label in (
                ("batches", "(a) batches of 1,000 (imei verdict status reason)"),
                ("batches_all_fields", "(a') batches of 1,000, all 7 fields"),
            ):
                result = run_load(kind, port, args.entries, args.seconds, args.batch_clients)
                print(
                    f"{label}: {result['per_second']:,.0f} IMEI checks/s "
                    f"({result['imeis']:,} in {result['seconds']:.1f} s, "
                    f"{args.batch_clients} clients, batch p50 {result['batch_p50_ms']:.1f} ms)"
                    f"  sample: {result['sample_statuses']}",
                    flush=True,
                )
            rates = [0.0] + [float(r) for r in args.rates.split(",") if r.strip()]
            for rate in rates:
                result = run_load("singles", port, args.entries, args.seconds, args.clients, rate)
                mode = f"offered {rate:,.0f}/s" if rate else "closed loop (saturation)"
                print(
                    f"(b) single-IMEI checks, {args.clients} concurrent clients, {mode}: "
                    f"{result['per_second']:,.0f} requests/s, p50 {result['p50_ms']:.1f} ms, "
                    f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
                    f"({result['requests']:,} requests in {result['seconds']:.1f} s)",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
