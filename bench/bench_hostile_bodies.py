"""Operators' checks while strangers and callers send hostile bodies: a real `mcks serve` on
loopback (one process, so every attack lands on the process that serves the checks).

    python bench/bench_hostile_bodies.py                 # SQLite in a temp directory
    python bench/bench_hostile_bodies.py --seconds 5     # a quick look

Three runs of single-IMEI checks from 20 keep-alive clients offered 200 requests/s (latency
from the scheduled send time): alone; while an anonymous attacker sends 48 MB bodies in a
loop (as fast as the server lets it); while an authenticated caller sends the largest JSON
body it may (just under MCKS_MAX_JSON_BODY_BYTES) in a loop. Prints p50/p99/max of the checks,
and what the attackers got (answers by status, seconds from the first byte to the answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_operator_checks import (
    TOKEN,
    free_port,
    prepare,
    run_load,
    start_server,
)

ANONYMOUS_BYTES = 48 * 1024 * 1024


async def _send(port: int, head: bytes, body_size: int, chunk: bytes) -> tuple[int, float]:
    """Send a request whose body is `body_size` bytes of `chunk`; the status and the seconds
    until the server answered. Stops writing as soon as an answer or a close comes."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    sent = 0
    try:
        while sent < body_size and not answer.done():
            writer.write(chunk[: body_size - sent])
            sent += len(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                break
        header = await asyncio.wait_for(answer, 120)
        status = int(header.split(b" ", 2)[1])
    except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
        status = 0
    finally:
        writer.close()
    return status, time.perf_counter() - started


async def _attack(kind: str, port: int, seconds: float, json_limit: int) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    waits: list[float] = []
    deadline = time.perf_counter() + seconds
    if kind == "anonymous":
        head = (
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {ANONYMOUS_BYTES}\r\n\r\n"
        ).encode()
        body_size, chunk = ANONYMOUS_BYTES, b'{"query": "' + b"a" * 1_048_000
    else:
        pad = "x" * (json_limit - 200)
        body = json.dumps({"query": "{ __typename }", "variables": {"pad": pad}}).encode()
        head = (
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        body_size, chunk = len(body), body
    while time.perf_counter() < deadline:
        status, waited = await _send(port, head, body_size, chunk)
        statuses[status] = statuses.get(status, 0) + 1
        waits.append(waited)
    return {
        "statuses": statuses,
        "median_s": statistics.median(waits) if waits else 0.0,
        "max_s": max(waits) if waits else 0.0,
    }


def _attacker(kind: str, port: int, seconds: float, json_limit: int, out: Any) -> None:
    out.put(asyncio.run(_attack(kind, port, seconds, json_limit)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    json_limit = int(os.environ.get("MCKS_MAX_JSON_BODY_BYTES", 2 * 1024 * 1024))
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite://{Path(scratch) / 'bench.sqlite3'}"
        asyncio.run(prepare(url, args.entries))
        port = free_port()
        server = start_server(url, port, token_cache_seconds=5, workers=1)
        context = multiprocessing.get_context("spawn")
        try:
            for kind in ("none", "anonymous", "authenticated"):
                out = context.Queue()
                attacker = None
                if kind != "none":
                    attacker = context.Process(
                        target=_attacker,
                        args=(kind, port, args.seconds + 3.5, json_limit, out),
                    )
                    attacker.start()
                checks = run_load(
                    "singles", port, args.entries, args.seconds, args.clients, args.rate
                )
                line = (
                    f"checks with attacker={kind}: p50 {checks['p50_ms']:.1f} ms, "
                    f"p99 {checks['p99_ms']:.1f} ms, max {checks['max_ms']:.1f} ms "
                    f"({checks['requests']:,} requests, offered {args.rate:.0f}/s)"
                )
                if attacker is not None:
                    attack = out.get(timeout=args.seconds + 300)
                    attacker.join(timeout=30)
                    line += (
                        f"; attacker's answers {attack['statuses']}, median "
                        f"{attack['median_s']:.3f} s, max {attack['max_s']:.3f} s each"
                    )
                print(line, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
