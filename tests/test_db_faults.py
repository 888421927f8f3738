"""The database going away, on PostgreSQL: backends terminated under load, connections
refused, a pool held by others. Nothing may wedge: every request answers (503 in GraphQL's
shape with a request id while the database cannot serve), the pool comes back whole, and the
gateway and a real `mcks worker` serve again by themselves."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import connections

from gateway.db import close_db, init_db
from gateway.demo import load_demo
from gateway.token_cache import TOKENS
from models.jobs import Job, JobStatus
from resolvers import jobs
from resolvers.individuals.verification import DISPATCH_JOB
from resolvers.settings import get_settings, updated
from tests.conftest import ON_POSTGRES, PG_URL
from tests.support.faults import (
    TcpProxy,
    admin_connection,
    server_processes,
    target_of,
    terminate_backends,
    via_port,
)
from tests.support.operators import OPERATOR_TOKEN, imei
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="terminates PostgreSQL backends"),
    pytest.mark.usefixtures("db"),
]

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BLACKLIST = (
    "mutation($imei: String!) { addToBlacklist(input: {imei: $imei, reason: STOLEN,"
    ' reference: "EGM-2026/1"}) { errors { code } } }'
)
CHECK = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei status } }"
PUBLIC = 'query { imeiStatus(imei: "356938035643809") { registered } }'


def the_pool() -> Any:
    pool = connections.get("default")._pool  # type: ignore[attr-defined]
    assert pool is not None
    return pool


async def whole(pool: Any) -> bool:
    """Every slot of the pool can be taken at once (none was lost)."""
    async with asyncio.timeout(30):
        held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for connection in held:
        await pool.release(connection)
    return len(held) == pool.get_max_size()


def assert_graphql_shape(response: httpx.Response) -> None:
    """What a client gets is never the server's plain text: JSON errors with a request id."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    if response.status_code == 503:
        [error] = body["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]


@contextlib.asynccontextmanager
async def through_proxy() -> Any:
    """The ORM reconnected through a TCP proxy the test can stop (an outage) and start."""
    proxy = TcpProxy(target_of(PG_URL))
    await proxy.start()
    await close_db()
    await init_db(via_port(PG_URL, proxy.port))
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def cached_tokens():
    # Authentication from memory: the mutation's BEGIN is then the request's first query.
    updated(token_cache_seconds=60)
    TOKENS.clear()
    yield
    TOKENS.clear()


async def test_requests_whose_transaction_cannot_begin_give_the_connection_back(
    client, cached_tokens
):
    """Deterministic: every pooled connection's backend is gone and the client does not know
    yet, so each request's BEGIN fails. tortoise 1.1.9 kept the connection each time: after
    as many requests as the pool has slots, the next one waited for ever."""
    await load_demo()

    async def blacklist(serial: int) -> httpx.Response:
        answer = await client.post(
            "/graphql",
            json={"query": BLACKLIST, "variables": {"imei": imei(serial)}},
            headers=OPERATOR,
        )
        assert_graphql_shape(answer)
        return answer

    async with through_proxy() as proxy:
        assert (await blacklist(1)).status_code == 200
        pool = the_pool()
        size = pool.get_max_size()
        for round_ in range(3):
            assert await whole(pool)  # every slot connected and idle...
            assert proxy.sever() >= size  # ...and each one's backend gone
            statuses = []
            async with asyncio.timeout(60):  # a lost slot per failure: the last ones hang
                for k in range(size + 2):
                    statuses.append((await blacklist(100 * round_ + 10 + k)).status_code)
            assert 503 in statuses and statuses[-1] == 200, statuses
        assert await whole(pool)


async def test_transactions_whose_begin_fails_give_their_connection_back(client):
    """tortoise 1.1.9 lost a pool slot each time BEGIN failed on a terminated backend: a few
    terminations under load and the process waited for ever."""
    await load_demo()
    pool = the_pool()
    admin = await admin_connection(PG_URL)
    stop = asyncio.Event()
    terminated = 0

    async def storm() -> None:
        nonlocal terminated
        while not stop.is_set():
            terminated += await terminate_backends(admin)
            await asyncio.sleep(0.01)

    async def caller(n: int) -> list[int]:
        statuses = []
        for k in range(25):
            answer = await client.post(
                "/graphql",
                json={"query": BLACKLIST, "variables": {"imei": imei(n * 100 + k)}},
                headers=OPERATOR,
            )
            assert_graphql_shape(answer)
            statuses.append(answer.status_code)
        return statuses

    storm_task = asyncio.create_task(storm())
    try:
        # A wedged pool means requests that never end: the deadline turns that into a failure.
        async with asyncio.timeout(240):
            results = await asyncio.gather(*(caller(n) for n in range(8)))
    finally:
        stop.set()
        await storm_task
        await admin.close()
    seen = Counter(status for statuses in results for status in statuses)
    assert terminated > 0 and seen[503] > 0, seen  # the fault did hit transactions
    assert set(seen) <= {200, 503}, seen
    assert await whole(pool)
    answer = await client.post(
        "/graphql", json={"query": BLACKLIST, "variables": {"imei": imei(999)}}, headers=OPERATOR
    )
    assert answer.status_code == 200 and answer.json()["data"]["addToBlacklist"]["errors"] == []


async def wait_for_status(client: httpx.AsyncClient, path: str, status: int) -> httpx.Response:
    async with asyncio.timeout(60):
        while True:
            answer = await client.get(path)
            if answer.status_code == status:
                return answer
            await asyncio.sleep(0.1)


async def test_an_unreachable_database_answers_503_in_graphql_shape_and_readyz_tells(client):
    await load_demo()
    updated(ready_timeout_seconds=1.0)
    async with through_proxy() as proxy:
        assert (await client.get("/readyz")).status_code == 200
        await proxy.stop()  # live connections cut, new ones refused

        ready = await wait_for_status(client, "/readyz", 503)
        assert ready.json()["status"] == "unavailable"
        # Authentication needs the database: answered in GraphQL's shape, with the request id.
        checked = await client.post(
            "/graphql", json={"query": CHECK, "variables": {"imeis": [imei(1)]}}, headers=OPERATOR
        )
        assert checked.status_code == 503
        assert_graphql_shape(checked)
        # No token: the resolver meets the outage; the error policy answers the same way.
        public = await client.post("/graphql", json={"query": PUBLIC})
        assert public.status_code == 503
        assert_graphql_shape(public)
        english = await client.post(
            "/graphql", json={"query": PUBLIC}, headers={"Accept-Language": "en"}
        )
        assert "cannot reach its database" in english.json()["errors"][0]["message"]

        await proxy.start()
        await wait_for_status(client, "/readyz", 200)
        again = await client.post(
            "/graphql", json={"query": CHECK, "variables": {"imeis": [imei(1)]}}, headers=OPERATOR
        )
        assert again.status_code == 200 and again.json()["data"]["checkImeis"]


async def test_readyz_fails_within_its_deadline_while_the_pool_cannot_serve(client):
    updated(ready_timeout_seconds=0.5)
    pool = the_pool()
    held = [await pool.acquire() for _ in range(pool.get_max_size())]  # requests hung on them
    try:
        async with asyncio.timeout(30):
            ready = await client.get("/readyz")
        assert ready.status_code == 503
    finally:
        for connection in held:
            await pool.release(connection)
    assert (await client.get("/readyz")).status_code == 200


# --- a real worker -------------------------------------------------------------------------


def worker_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MCKS_ENV": "test",
        "MCKS_SECRET_KEY": get_settings().secret_key or "x" * 32,
        "MCKS_WORKER_POLL_SECONDS": "0.2",
        "MCKS_DB_POOL_MIN": "1",
        "MCKS_DB_POOL_MAX": "3",
        "MCKS_LOG_LEVEL": "WARNING",
        **extra,
    }


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, and SIGKILL if it has not stopped within a generous while."""
    process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(40):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


async def wait_done(job_id: int, seconds: float = 90.0) -> Job:
    async with asyncio.timeout(seconds):
        while True:
            job = await Job.get(id=job_id)
            if job.status == JobStatus.DONE:
                return job
            await asyncio.sleep(0.2)


async def test_a_real_worker_recovers_from_its_backends_terminated_in_a_loop():
    proxy = TcpProxy(target_of(PG_URL))
    await proxy.start()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "worker",
        cwd=ROOT,
        env=worker_env(via_port(PG_URL, proxy.port)),
    )
    admin = await admin_connection(PG_URL)
    try:
        first = await jobs.enqueue(DISPATCH_JOB, {"probe": 0})
        assert (await wait_done(first.id)).status == JobStatus.DONE  # it runs jobs at all
        # For 6 s, every 0.2 s: its backends terminated, or its idle connections' backends
        # gone unnoticed (so its next BEGIN fails), while it claims and runs jobs.
        queued = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            if len(queued) % 2:
                proxy.sever()
            else:
                await terminate_backends(admin)
            with contextlib.suppress(Exception):  # our own connections die too
                queued.append((await jobs.enqueue(DISPATCH_JOB, {"probe": len(queued)})).id)
            await asyncio.sleep(0.2)
        assert worker.returncode is None  # alive...
        after = await jobs.enqueue(DISPATCH_JOB, {"probe": "after"})
        assert (await wait_done(after.id)).status == JobStatus.DONE  # ...and working again
        for job_id in queued:
            assert (await wait_done(job_id)).status == JobStatus.DONE
    finally:
        await admin.close()
        await stop_process(worker)
        await proxy.stop()


# --- a real `mcks serve` -------------------------------------------------------------------


async def test_serve_replaces_a_process_that_stays_unready():
    from tests.test_serve import free_port

    proxy = TcpProxy(target_of(PG_URL))
    await proxy.start()
    port = free_port()
    env = worker_env(
        via_port(PG_URL, proxy.port),
        MCKS_IN_PROCESS_WORKER="0",
        MCKS_UNREADY_RESTART_SECONDS="3",
        MCKS_READY_TIMEOUT_SECONDS="0.5",
        MCKS_LOG_LEVEL="ERROR",
    )
    supervisor = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), cwd=ROOT, env=env
    )
    base = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                return (await http.get(f"{base}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def one_process() -> set[int]:
        return set(server_processes(supervisor.pid))

    try:
        await eventually(ready)
        [first] = await eventually(one_process)
        await proxy.stop()  # its pool cannot serve from now on

        async def replaced() -> bool:
            return first not in server_processes(supervisor.pid)

        await eventually(replaced, 60)
        await proxy.start()
        # A fresh process serves, without anyone restarting anything (the supervisor retries
        # a start that failed while the database was away with a growing delay, ≤ 30 s).
        await eventually(ready, 180)
        assert first not in server_processes(supervisor.pid)
        assert supervisor.returncode is None
    finally:
        await stop_process(supervisor)
        await proxy.stop()
