"""The push channel across processes (PostgreSQL): real `mcks serve` and `mcks worker`
subprocesses on loopback. An event made in the worker, or in another process, reaches a
subscriber on the gateway process through LISTEN/NOTIFY; when the gateway's listener loses
its connection, it reconnects and its subscribers re-read from their cursors."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from tortoise import connections
from tortoise.expressions import Q

from gateway.demo import load_demo
from gateway.push import APPLICATION_NAME
from models import clock
from models.jobs import Job, JobStatus
from resolvers import jobs
from resolvers.pagination import encode_cursor
from resolvers.settings import get_settings
from tests.conftest import ON_POSTGRES
from tests.support.operators import OPERATOR_TOKEN, imei, whitelist
from tests.support.push import WAIT, WHITELIST, data, feed_items, session, subscribe
from tests.support.waiting import eventually
from tests.test_serve import free_port, healthy, serve_env, wait_for

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY needs PostgreSQL")

PASSWORD = "Demo.Sifre.2026"


@contextmanager
def process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(command, env=env)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture
async def gateway(db) -> AsyncIterator[str]:
    """`mcks serve` (one process, no in-process worker) and `mcks worker`, on the test's
    database; the gateway's WebSocket URL."""
    await load_demo()
    port = free_port()
    env = serve_env(db, secret_key=get_settings().secret_key)  # the demo tokens hash with it
    serve = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    worker = [sys.executable, "-m", "gateway.cli", "worker"]
    # The worker is woken by the jobs queued (NOTIFY), not by its poll: that would take an hour.
    with process(serve, env), process(worker, {**env, "MCKS_WORKER_POLL_SECONDS": "3600"}):
        await asyncio.to_thread(wait_for, lambda: healthy(port), WAIT)
        yield f"ws://127.0.0.1:{port}/graphql"


async def staff_token(url: str) -> str:
    base = url.replace("ws://", "http://")
    async with httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(
            base,
            json={
                "query": 'mutation($p: String!) { login(username: "kurum.yonetici", '
                "password: $p) { token } }",
                "variables": {"p": PASSWORD},
            },
        )
    return str(response.json()["data"]["login"]["token"])


async def test_a_job_that_dies_in_the_worker_reaches_a_subscriber_on_the_gateway(gateway):
    socket = await session(gateway, await staff_token(gateway))
    await subscribe(
        socket,
        "subscription($a: String) { jobQueueEvents(after: $a) { kind jobId detail } }",
        {"a": encode_cursor(0)},  # every event of this fresh database
    )
    job = await jobs.enqueue("no.such.kind", {}, max_attempts=1)  # the worker gives it up
    event = (await data(socket))["jobQueueEvents"]
    assert event == {"kind": "DEAD", "jobId": job.id, "detail": "no.such.kind"}
    await socket.close()


async def test_a_job_queued_in_another_process_wakes_the_idle_worker_at_once(gateway):
    async def idle() -> bool:
        # The worker's first turn queued its periodic jobs; none is due or running any more.
        if not await Job.exists():
            return False
        return not await Job.filter(
            Q(status=JobStatus.RUNNING) | Q(status=JobStatus.QUEUED, run_after__lte=clock.now())
        ).exists()

    await eventually(idle, WAIT)  # well inside its hour-long poll
    job = await jobs.enqueue("no.such.kind", {}, max_attempts=1)  # the worker gives it up

    async def given_up() -> bool:
        return (await Job.get(id=job.id)).status == JobStatus.DEAD

    await eventually(given_up, WAIT)


async def test_changes_from_another_process_arrive_and_survive_a_lost_listener(gateway):
    socket = await session(gateway, OPERATOR_TOKEN)
    await subscribe(socket, WHITELIST, {"first": 100})
    await whitelist(imei(1), imei(2))  # committed here: another process than the gateway
    items, _ = await feed_items(socket, "whitelistChanges", 2)
    assert [i["imei"] for i in items] == [imei(1), imei(2)]

    # Cut the gateway's LISTEN connection; what commits meanwhile is read after it is back.
    connection = connections.get("default")
    _, rows = await connection.execute_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        [APPLICATION_NAME],
    )
    assert rows, "the gateway's listener was not connected"
    await whitelist(imei(3))
    await whitelist(imei(4))
    items, _ = await feed_items(socket, "whitelistChanges", 2)
    assert [i["imei"] for i in items] == [imei(3), imei(4)]
    await socket.close()
