"""Durable jobs: retried with backoff, given up and listed, leases that outlive a dead worker,
and on PostgreSQL several workers sharing the queue without running a job twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from models import clock
from models.jobs import Job, JobStatus
from resolvers import jobs
from tests.support.api import error_codes, gql, login, make_world

pytestmark = pytest.mark.usefixtures("db")

RUNS: list[tuple[int, int]] = []


@jobs.handler("test.flaky")
async def flaky(job: Job) -> None:
    RUNS.append((job.id, job.attempts))
    if job.attempts < job.payload.get("succeed_on", 1):
        raise jobs.RetryLater("authority timed out")


@jobs.handler("test.broken")
async def broken(job: Job) -> None:
    raise jobs.GiveUp("the payload names no application")


@pytest.fixture(autouse=True)
def fresh_runs():
    RUNS.clear()
    clock.freeze(clock.now())


async def test_a_passing_failure_is_retried_with_growing_delays_then_succeeds():
    job = await jobs.enqueue("test.flaky", {"succeed_on": 3})
    assert await jobs.drain() == 1  # first attempt fails, the retry is not due yet
    job = await Job.get(id=job.id)
    assert job.status == JobStatus.QUEUED and job.last_error == "RetryLater: authority timed out"
    first_delay = job.run_after - clock.now()
    clock.advance(first_delay)
    await jobs.drain()
    second = await Job.get(id=job.id)
    assert second.run_after - clock.now() == 2 * first_delay  # exponential backoff
    clock.advance(second.run_after - clock.now())
    await jobs.drain()
    done = await Job.get(id=job.id)
    assert done.status == JobStatus.DONE and done.attempts == 3
    assert [attempt for _, attempt in RUNS] == [1, 2, 3]


async def test_a_job_that_keeps_failing_is_given_up_and_staff_can_retry_it(client):
    job = await jobs.enqueue("test.flaky", {"succeed_on": 99}, max_attempts=2)
    await jobs.drain()
    clock.advance(timedelta(hours=2))
    await jobs.drain()
    dead = await Job.get(id=job.id)
    assert dead.status == JobStatus.DEAD and dead.attempts == 2

    await make_world()
    token = await login(client, "staff.admin")
    listed = await gql(
        client, "{ jobs(status: DEAD) { items { id kind attempts lastError } } }", token=token
    )
    assert listed["data"]["jobs"]["items"] == [
        {
            "id": job.id,
            "kind": "test.flaky",
            "attempts": 2,
            "lastError": "RetryLater: authority timed out",
        }
    ]
    firm = await gql(client, "{ jobs { items { id } } }", token=await login(client, "a.user"))
    assert error_codes(firm) == ["FORBIDDEN"]

    retried = await gql(
        client,
        "mutation($id: Int!) { retryJob(jobId: $id) { job { status attempts } errors { code } } }",
        {"id": job.id},
        token=token,
    )
    assert retried["data"]["retryJob"]["job"] == {"status": "QUEUED", "attempts": 0}


async def test_a_permanent_failure_is_given_up_at_once():
    job = await jobs.enqueue("test.broken", {})
    await jobs.drain()
    assert (await Job.get(id=job.id)).status == JobStatus.DEAD


async def test_a_job_whose_worker_died_is_taken_over_when_its_lease_expires():
    job = await jobs.enqueue("test.flaky", {})
    [claimed] = await jobs.claim("worker-that-dies", lease_seconds=60)
    assert claimed.id == job.id
    assert await jobs.claim("second-worker", lease_seconds=60) == []  # leased: not offered
    clock.advance(timedelta(seconds=61))
    assert await jobs.drain("second-worker") == 1
    done = await Job.get(id=job.id)
    assert done.status == JobStatus.DONE and done.attempts == 2
    # The dead worker cannot record an outcome over the one that took it over.
    await jobs.run(claimed, "worker-that-dies")
    assert (await Job.get(id=job.id)).status == JobStatus.DONE and RUNS.count((job.id, 1)) == 1


async def test_a_dedupe_key_keeps_one_live_job():
    first = await jobs.enqueue("test.flaky", {}, dedupe_key="analysis:7:1")
    again = await jobs.enqueue("test.flaky", {}, dedupe_key="analysis:7:1")
    assert first.id == again.id
    await jobs.drain()
    later = await jobs.enqueue("test.flaky", {}, dedupe_key="analysis:7:1")
    assert later.id != first.id  # the key is free again once the job is done


async def test_workers_sharing_the_queue_never_run_a_job_twice():
    # On PostgreSQL the claims race for real (FOR UPDATE SKIP LOCKED); SQLite serializes them.
    created = [await jobs.enqueue("test.flaky", {"n": n}) for n in range(60)]

    async def worker(name: str) -> None:
        worked = True
        while worked:
            worked = await jobs.run_next(name)
            await asyncio.sleep(0)  # let the other workers interleave

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    ran = sorted(job_id for job_id, _ in RUNS)
    assert ran == sorted(j.id for j in created)  # each exactly once
    assert await Job.filter(status=JobStatus.DONE).count() == 60
    assert {n for _, n in RUNS} == {1}  # nobody took a job another worker held


async def test_the_worker_loop_runs_due_jobs_and_stops_when_asked(monkeypatch):
    from gateway import worker

    scheduled = []

    async def schedule() -> None:
        scheduled.append(clock.now())

    monkeypatch.setattr(worker, "load_handlers", lambda: [schedule])
    job = await jobs.enqueue("test.flaky", {})
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.01))
    for _ in range(200):
        if (await Job.get(id=job.id)).status == JobStatus.DONE:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert (await Job.get(id=job.id)).status == JobStatus.DONE
    assert len(scheduled) == 1  # periodic schedulers run once per interval, not per poll


async def test_a_job_queued_wakes_the_idle_worker_without_waiting_for_its_poll(monkeypatch):
    # The analysis a firm asks for starts at once, not up to a poll later; on PostgreSQL the
    # wake-up goes through the database (a NOTIFY on commit), as it reaches other processes.
    from gateway import worker
    from gateway.push import push_channel

    monkeypatch.setattr(worker, "load_handlers", lambda: [])
    idle, ran = asyncio.Event(), asyncio.Event()
    run_next, run = jobs.run_next, jobs.run

    async def noting_idle(*args, **kwargs) -> bool:
        worked = await run_next(*args, **kwargs)
        if not worked:
            idle.set()
        return worked

    async def noting_run(*args, **kwargs) -> None:
        await run(*args, **kwargs)
        ran.set()

    monkeypatch.setattr(jobs, "run_next", noting_idle)
    monkeypatch.setattr(jobs, "run", noting_run)
    stop = asyncio.Event()
    async with push_channel():
        task = asyncio.create_task(worker.run_forever(stop, poll_seconds=3600))
        try:
            await asyncio.wait_for(idle.wait(), timeout=60)  # found nothing: now it waits
            async with in_transaction():
                job = await jobs.enqueue("test.flaky", {})
            await asyncio.wait_for(ran.wait(), timeout=60)  # the poll would take an hour
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=60)
    assert (await Job.get(id=job.id)).status == JobStatus.DONE
    assert RUNS == [(job.id, 1)]


# --- leases renewed while a job runs ---------------------------------------------------------


class LongJob:
    """A handler that runs until released, and tells whether it was stopped."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.running = 0
        self.most_at_once = 0


@pytest.fixture
def long_job():
    state = LongJob()

    @jobs.handler("test.long")
    async def run_long(job: Job) -> None:
        state.running += 1
        state.most_at_once = max(state.most_at_once, state.running)
        try:
            await state.release.wait()
        except asyncio.CancelledError:
            state.cancelled.set()
            raise
        finally:
            state.running -= 1

    yield state
    state.release.set()
    jobs.HANDLERS.pop("test.long", None)


async def job_where(job_id: int, condition, seconds: float = 30.0) -> Job:
    async with asyncio.timeout(seconds):
        while True:
            job = await Job.get(id=job_id)
            if condition(job):
                return job
            await asyncio.sleep(0.05)


def test_the_default_lease_is_short():
    from resolvers.settings import Settings

    assert Settings().job_lease_seconds <= 60  # a dead worker's job waits about a minute


async def test_a_running_job_keeps_its_lease_so_nobody_takes_it_over(long_job):
    job = await jobs.enqueue("test.long", {})
    running = asyncio.create_task(jobs.run_next("first", lease_seconds=3))
    claimed = await job_where(job.id, lambda j: j.status == JobStatus.RUNNING)
    clock.advance(timedelta(seconds=2))
    # The heartbeat (every third of the lease) extends it from the clock's new time.
    await job_where(job.id, lambda j: j.lease_until > claimed.lease_until)
    clock.advance(timedelta(seconds=2))  # past the first lease: only the renewal holds it
    assert await jobs.claim("second", lease_seconds=3) == []
    long_job.release.set()
    assert await asyncio.wait_for(running, 30) is True
    done = await Job.get(id=job.id)
    assert done.status == JobStatus.DONE and done.attempts == 1
    assert long_job.most_at_once == 1 and not long_job.cancelled.is_set()


async def test_a_worker_whose_job_was_taken_over_stops_running_it(long_job):
    job = await jobs.enqueue("test.long", {})
    running = asyncio.create_task(jobs.run_next("slow", lease_seconds=3))
    await job_where(job.id, lambda j: j.status == JobStatus.RUNNING)
    # As if its lease had run out and another worker claimed the job.
    await Job.filter(id=job.id).update(locked_by="other")
    await asyncio.wait_for(long_job.cancelled.wait(), 30)  # its next heartbeat notices
    await asyncio.wait_for(running, 30)  # the worker itself carries on
    after = await Job.get(id=job.id)
    # It recorded nothing over the new holder's run.
    assert after.status == JobStatus.RUNNING and after.locked_by == "other"
    assert long_job.running == 0
