"""`mcks serve --workers 2`: several server processes behind one port, replaced when one
dies, all stopped by one SIGTERM. A real server on a loopback port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.demo import load_demo
from resolvers.settings import get_settings
from tests.support.faults import server_processes
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, whitelist

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--workers", "2"]


def serve_env(database_url: str, secret_key: str = "x" * 32, log_level: str = "WARNING") -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MCKS_ENV": "test",
        "MCKS_SECRET_KEY": secret_key,
        "MCKS_IN_PROCESS_WORKER": "0",
        "MCKS_LOG_LEVEL": log_level,
    }


def wait_for(condition, seconds: float = 180.0):
    # A deadline for an event, not a timing: a loaded machine starts processes slowly.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def test_two_processes_serve_one_port_and_a_dead_one_is_replaced(db):
    await load_demo()
    await whitelist(imei(1))
    # The scenario blocks on processes and sockets: off the event loop.
    await asyncio.to_thread(two_processes_scenario, db, get_settings().secret_key)


def two_processes_scenario(database_url: str, secret_key: str) -> None:
    port = free_port()
    supervisor = subprocess.Popen(
        serve_command(port), cwd=ROOT, env=serve_env(database_url, secret_key)
    )
    try:
        wait_for(lambda: len(server_processes(supervisor.pid)) == 2 and healthy(port))
        first = server_processes(supervisor.pid)
        assert len(first) == 2

        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": CHECK, "variables": {"imeis": [imei(1)]}},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            timeout=10,
        )
        assert answer.json()["data"]["checkImeis"][0]["status"] == "REGISTERED"

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(
            lambda: (now := server_processes(supervisor.pid)) - first and len(now) == 2 and now
        )
        assert victim not in replaced and (first - {victim}) <= replaced
        # Fresh connections are answered once the replacement runs (none is refused).
        for _ in range(20):
            assert wait_for(lambda: healthy(port), 15)

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=40) == 0
        assert not server_processes(supervisor.pid)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def test_a_server_that_cannot_start_stops_the_supervisor():
    port = free_port()
    # Nothing listens on port 1: the processes fail at startup.
    env = serve_env("postgresql://postgres@127.0.0.1:1/nothing", log_level="CRITICAL")
    supervisor = subprocess.run(
        serve_command(port), cwd=ROOT, env=env, timeout=60, capture_output=True
    )
    assert supervisor.returncode == 1


def test_processes_of_a_killed_supervisor_stop_by_themselves(tmp_path):
    port = free_port()
    env = serve_env(f"sqlite://{tmp_path}/serve.sqlite3")
    supervisor = subprocess.Popen(serve_command(port), cwd=ROOT, env=env)
    try:
        wait_for(lambda: len(server_processes(supervisor.pid)) == 2 and healthy(port))
        children = server_processes(supervisor.pid)
        supervisor.kill()  # SIGKILL: no chance to stop its processes
        supervisor.wait()
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 20)
        assert not healthy(port)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
