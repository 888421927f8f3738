"""The database going away under load: does every process and worker come back by itself?

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mcks_bench python bench/bench_faults.py

A real `mcks serve --workers 2` and a real `mcks worker` reach PostgreSQL through a TCP proxy
that this bench runs in its own process (the machine's PostgreSQL server is never touched:
others use it). 60 clients send mixed traffic — operators' IMEI checks (authenticated from
the database), blacklist additions (a transaction each), public IMEI queries, feed pages and
readiness probes — while the bench:

1. terminates every PostgreSQL backend of the database every 0.2 s for 10 s;
2. then stops the proxy for 15 s: live connections cut, new ones refused;
3. then starts it again and waits for the service to recover.

It prints the requests, the errors by kind, the seconds from the end of the fault to the
first success and to the last failure, and whether every server process and the worker serve
again without having been restarted. Target: recovery within 5 s, no wedged process, no
plain-text 500. The database given is migrated and gets demo data: use a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from models.imei import luhn_check_digit  # noqa: E402
from resolvers.settings import normalise_database_url  # noqa: E402
from tests.support.faults import (  # noqa: E402
    TcpProxy,
    admin_connection,
    server_processes,
    target_of,
    terminate_backends,
    via_port,
)

SECRET = "bench-secret-not-for-production"
OPERATOR = {"Authorization": "Bearer mcks_demo_operator_token"}
CHECK = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei verdict status } }"
BLACKLIST = (
    "mutation($imei: String!) { addToBlacklist(input: {imei: $imei, reason: STOLEN,"
    ' reference: "BENCH-1"}) { errors { code } } }'
)
PUBLIC = "query($imei: String!) { imeiStatus(imei: $imei) { registered } }"
FEED = "{ whitelistChanges(first: 50) { items { cursor op imei } } }"
# (kind, weight): what a mixed day looks like, roughly.
MIX = [("check", 50), ("blacklist", 15), ("public", 15), ("feed", 10), ("readyz", 10)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def imei(serial: int) -> str:
    first14 = f"35693803{serial % 1_000_000:06d}"
    return first14 + luhn_check_digit(first14)


# --- the proxy, in its own process so the load does not slow it down ----------------------


def proxy_main(commands: Connection, upstream: tuple[str, int], port: int) -> None:
    async def main() -> None:
        proxy = TcpProxy(upstream, port)
        await proxy.start()
        commands.send("started")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, commands.recv)
            if command == "stop":
                await proxy.stop()
            elif command == "sever":
                proxy.sever()
            elif command == "start":
                await proxy.start()
            elif command == "quit":
                await proxy.stop()
                commands.send("ok")
                return
            commands.send("ok")

    asyncio.run(main())


class ProxyProcess:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.port = free_port()
        context = multiprocessing.get_context("spawn")
        self.commands, child = context.Pipe()
        self.process = context.Process(
            target=proxy_main, args=(child, upstream, self.port), daemon=True
        )
        self.process.start()
        assert self.commands.recv() == "started"

    async def send(self, command: str) -> None:
        self.commands.send(command)
        assert await asyncio.to_thread(self.commands.recv) == "ok"


# --- the load ------------------------------------------------------------------------------


@dataclass
class Record:
    started: float
    ended: float
    kind: str
    outcome: str  # "ok", or the kind of error


@dataclass
class Load:
    base: str
    records: list[Record] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    serial: int = 0


def outcome_of(response: httpx.Response) -> str:
    json_body = response.headers.get("content-type", "").startswith("application/json")
    if not json_body:
        return f"{response.status_code} plain text" if response.status_code != 200 else "ok"
    body = response.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if response.status_code == 200 and not errors:
        return "ok"
    if not errors:  # /readyz: {"status": "unavailable", "database": "unreachable"}
        return f"{response.status_code} readyz {body.get('status', '?')}"
    extensions = errors[0].get("extensions", {})
    code = extensions.get("code", "no code")
    with_id = "requestId" in extensions or code not in ("SERVICE_UNAVAILABLE", "INTERNAL_ERROR")
    return f"{response.status_code} {code}" + ("" if with_id else " without request id")


async def one_request(client: httpx.AsyncClient, load: Load, kind: str) -> httpx.Response:
    load.serial += 1
    if kind == "check":
        variables = {"imeis": [imei(random.randrange(1_000_000))]}
        return await client.post(
            "/graphql", json={"query": CHECK, "variables": variables}, headers=OPERATOR
        )
    if kind == "blacklist":
        variables = {"imei": imei(500_000 + load.serial)}
        return await client.post(
            "/graphql", json={"query": BLACKLIST, "variables": variables}, headers=OPERATOR
        )
    if kind == "public":
        variables = {"imei": imei(random.randrange(1_000_000))}
        return await client.post("/graphql", json={"query": PUBLIC, "variables": variables})
    if kind == "feed":
        return await client.post("/graphql", json={"query": FEED}, headers=OPERATOR)
    return await client.get("/readyz")


async def client_loop(load: Load) -> None:
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    async with httpx.AsyncClient(base_url=load.base, timeout=10.0) as client:
        while not load.stop.is_set():
            kind = random.choices(kinds, weights)[0]
            started = time.monotonic()
            try:
                outcome = outcome_of(await one_request(client, load, kind))
            except httpx.TimeoutException:
                outcome = "client timeout (10 s)"
            except httpx.HTTPError as error:
                outcome = f"connection: {type(error).__name__}"
            load.records.append(Record(started, time.monotonic(), kind, outcome))
            if outcome != "ok":
                await asyncio.sleep(0.05)  # a client backs off a little after a failure


# --- processes -----------------------------------------------------------------------------


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)


def launch(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`mcks …` in the background, its output in `log` (read afterwards)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *arguments],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_all(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.2)
    return False


async def serves(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            ready = await client.get("/readyz")
            checked = await client.post(
                "/graphql",
                json={"query": CHECK, "variables": {"imeis": [imei(1)]}},
                headers=OPERATOR,
            )
        return ready.status_code == 200 and outcome_of(checked) == "ok"
    except httpx.HTTPError:
        return False


async def fresh_connections_all_served(base: str, count: int = 40) -> tuple[int, int]:
    """Each on a new connection: SO_REUSEPORT spreads them over every server process."""
    results = await asyncio.gather(*(serves(base) for _ in range(count)))
    return sum(results), count


async def worker_runs_a_job(admin: Any, seconds: float = 30.0) -> bool:
    job_id = await admin.fetchval(
        "INSERT INTO job (kind, payload, status, attempts, max_attempts, run_after, created_at)"
        " VALUES ('verification.dispatch', '{}', 'QUEUED', 0, 5, now(), now()) RETURNING id"
    )

    async def done() -> bool:
        status = await admin.fetchval("SELECT status FROM job WHERE id = $1", job_id)
        return bool(status == "DONE")

    return await wait_until(done, seconds)


# --- the run -------------------------------------------------------------------------------


def summary(
    load: Load, fault_started: float, refused_from: float, fault_ended: float, t0: float
) -> dict[str, Any]:
    records = load.records

    def errors_between(start: float, end: float) -> dict[str, int]:
        found = Counter(r.outcome for r in records if start <= r.ended < end and r.outcome != "ok")
        return dict(found.most_common())

    after = [r for r in records if r.ended >= fault_ended]
    first_ok = min((r.ended for r in after if r.outcome == "ok"), default=None)
    last_bad = max((r.ended for r in after if r.outcome != "ok"), default=None)
    errors = Counter(r.outcome for r in records if r.outcome != "ok")
    during = [r for r in records if fault_started <= r.ended < fault_ended]
    return {
        "requests": len(records),
        "ok": sum(r.outcome == "ok" for r in records),
        "during_fault": len(during),
        "errors": dict(errors.most_common()),
        "errors_while_terminating": errors_between(fault_started, refused_from),
        "errors_while_refused": errors_between(refused_from, fault_ended),
        "errors_after_fault": errors_between(fault_ended, float("inf")),
        "first_ok_after_fault_s": None if first_ok is None else round(first_ok - fault_ended, 2),
        "last_error_after_fault_s": 0.0 if last_bad is None else round(last_bad - fault_ended, 2),
        "requests_after_fault": len(after),
        "ok_after_recovery": all(
            r.outcome == "ok" for r in after if last_bad is None or r.ended > last_bad
        ),
        "elapsed_s": round(time.monotonic() - t0, 1),
    }


async def bench(args: argparse.Namespace) -> int:
    url = normalise_database_url(args.database_url)
    if not url.startswith("postgres://"):
        print("bench_faults needs PostgreSQL (DATABASE_URL=postgresql://…)", file=sys.stderr)
        return 2
    base_env = {
        **os.environ,
        "MCKS_SECRET_KEY": SECRET,
        "MCKS_LOG_LEVEL": "WARNING",
        "MCKS_ACCESS_LOG": "0",
        "MCKS_PUBLIC_QUERY_RATE_PER_MINUTE": "0",
        "MCKS_IN_PROCESS_WORKER": "0",
    }
    print("migrating and loading demo data …", flush=True)
    run([sys.executable, "-m", "gateway.cli", "migrate"], {**base_env, "DATABASE_URL": url})
    run(
        [sys.executable, "-m", "gateway.cli", "demo"],
        {**base_env, "DATABASE_URL": url, "MCKS_ENV": "development"},
    )

    proxy = ProxyProcess(target_of(url))
    proxied = via_port(url, proxy.port)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="mcks-faults-"))
    serve_env = {
        **base_env,
        "DATABASE_URL": proxied,
        "MCKS_ENV": "test",
        "MCKS_DB_POOL_MAX": str(args.pool),
        "MCKS_READY_TIMEOUT_SECONDS": "1",
    }
    worker_env = {**serve_env, "MCKS_DB_POOL_MAX": "3", "MCKS_WORKER_POLL_SECONDS": "0.5"}
    server = launch(
        ["serve", "--port", str(port), "--workers", str(args.processes)],
        serve_env,
        logs / "serve.log",
    )
    worker = launch(["worker"], worker_env, logs / "worker.log")
    admin = await admin_connection(url)
    try:
        return await scenario(args, base, server, worker, proxy, admin, logs)
    finally:
        await admin.close()
        await asyncio.to_thread(stop_all, server, worker)
        await proxy.send("quit")


async def scenario(
    args: argparse.Namespace,
    base: str,
    server: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes],
    proxy: ProxyProcess,
    admin: Any,
    logs: Path,
) -> int:
    if not await wait_until(lambda: serves(base), 90):
        print("the gateway did not start", file=sys.stderr)
        return 1
    processes_before = server_processes(server.pid)
    print(
        f"gateway: {len(processes_before)} server processes (pids {sorted(processes_before)}),"
        f" worker pid {worker.pid}; {args.clients} clients, mix {dict(MIX)}",
        flush=True,
    )
    load = Load(base)
    t0 = time.monotonic()
    clients = [asyncio.create_task(client_loop(load)) for _ in range(args.clients)]
    await asyncio.sleep(args.warmup)

    fault_started = time.monotonic()
    terminated = severed = rounds = 0
    while time.monotonic() - fault_started < args.terminate_seconds:
        rounds += 1
        if args.sever and rounds % 2:
            await proxy.send("sever")  # the backends gone, the gateway not told yet
            severed += 1
        else:
            terminated += await terminate_backends(admin)
        await asyncio.sleep(0.2)
    print(
        f"phase 1: {terminated} backends terminated in {args.terminate_seconds:g} s"
        + (f", live connections severed {severed} times" if args.sever else ""),
        flush=True,
    )
    refused_from = time.monotonic()
    await proxy.send("stop")
    await asyncio.sleep(args.refuse_seconds)
    await proxy.send("start")
    fault_ended = time.monotonic()
    print(f"phase 2: connections refused for {args.refuse_seconds:g} s; proxy back", flush=True)

    await asyncio.sleep(args.after)
    load.stop.set()
    await asyncio.gather(*clients)
    result = summary(load, fault_started, refused_from, fault_ended, t0)

    served, asked = await fresh_connections_all_served(base)
    processes_after = server_processes(server.pid)
    worker_ok = worker.poll() is None and await worker_runs_a_job(admin)
    log_text = (logs / "serve.log").read_text(errors="replace")
    replaced = log_text.count("replacing it") + log_text.count("died (exit")
    plain = sum(count for kind, count in result["errors"].items() if "plain text" in kind)
    recovered_in = result["last_error_after_fault_s"]
    no_restart = processes_after == processes_before and replaced == 0
    result.update(
        {
            "fresh_connections_served": f"{served}/{asked}",
            "server_processes_same_pids": processes_after == processes_before,
            "server_processes_replaced_by_supervisor": replaced,
            "worker_alive_and_ran_a_job": worker_ok,
            "plain_text_500s": plain,
        }
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = (
        served == asked
        and no_restart
        and worker_ok
        and plain == 0
        and result["ok_after_recovery"]
        and recovered_in <= args.target
    )
    everyone = served == asked and no_restart and worker_ok
    print(
        f"recovered {recovered_in:.2f} s after the fault (target ≤ {args.target:g} s); every"
        f" process and the worker serve again without a restart: {everyone};"
        f" plain-text 500s: {plain} → {'PASS' if ok else 'FAIL'}  (logs in {logs})"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2, help="gateway server processes")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL pool per process")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--terminate-seconds", type=float, default=10.0)
    parser.add_argument("--refuse-seconds", type=float, default=15.0)
    parser.add_argument(
        "--sever",
        action="store_true",
        help="in phase 1, every other 0.2 s cut the proxied connections instead, so the"
        " gateway learns it only at its next statement (BEGIN on a pooled connection)",
    )
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after")
    parser.add_argument("--target", type=float, default=5.0, help="recovery target, seconds")
    args = parser.parse_args()
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
