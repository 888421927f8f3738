"""The job worker: `mcks worker`, or a task inside the server on the embedded default."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from tortoise import connections

from resolvers import events, jobs
from resolvers.db_errors import is_database_unavailable
from resolvers.job_kinds import load_handlers

log = logging.getLogger("mcks.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


SCHEDULE_EVERY_SECONDS = 30.0


async def fresh_database_state() -> None:
    """After a database error: no transaction left as this task's connection, and no pooled
    connection reused that may be dead, so the next poll starts from a clean slate."""
    try:
        current = connections.get("default")
    except Exception:  # the ORM is not set up (any more): nothing to clean
        return
    root = current
    while getattr(root, "_parent", None) is not None:
        root = root._parent
    if root is not current:
        log.warning("worker: dropping a transaction left behind by a database error")
        connections.set("default", root)
    expire = getattr(root, "_expire_connections", None)
    if expire is not None:
        try:
            await expire()  # PostgreSQL: idle connections are replaced on their next use
        except Exception:
            log.debug("worker: expiring pooled connections failed", exc_info=True)


async def run_forever(
    stop: asyncio.Event, poll_seconds: float = 1.0, lease_seconds: int = 60
) -> None:
    """Run due jobs until `stop`. A job queued for now wakes the loop at once
    (`events.JOBS_DUE`, from every process on PostgreSQL); `poll_seconds` is for the
    retries that come due and a wake-up lost on the way."""
    with events.listening(events.JOBS_DUE) as due:
        await _work(stop, poll_seconds, lease_seconds, due)


async def _work(
    stop: asyncio.Event, poll_seconds: float, lease_seconds: int, due: events.Signal
) -> None:
    schedulers = load_handlers()
    me = worker_id()
    log.info("worker %s started", me)
    next_schedule = 0.0
    loop = asyncio.get_running_loop()
    outage = False
    while not stop.is_set():
        due.clear()  # a job queued from here on ends the wait below
        worked = False
        try:
            if loop.time() >= next_schedule:
                for schedule in schedulers:
                    try:
                        await schedule()
                    except Exception as error:  # one area's scheduler must not stop the others
                        if is_database_unavailable(error):
                            raise
                        log.exception("worker %s: scheduling %s failed", me, schedule.__module__)
                next_schedule = loop.time() + SCHEDULE_EVERY_SECONDS
            worked = await jobs.run_next(me, lease_seconds)
            if outage:
                log.info("worker %s: the database answers again", me)
                outage = False
        except Exception as error:  # a database hiccup must not end the worker
            if is_database_unavailable(error):
                # One line per outage, not a traceback per poll.
                if not outage:
                    log.warning("worker %s: database unavailable: %r", me, error)
                outage = True
            else:
                log.exception("worker %s: claiming failed", me)
            await fresh_database_state()
        if not worked:
            await _idle(stop, None if outage else due, poll_seconds)
    log.info("worker %s stopped", me)


async def _idle(stop: asyncio.Event, due: events.Signal | None, seconds: float) -> None:
    """Until `stop`, a job queued (`due`; None while the database is down: the reconnecting
    listener's wake-ups would only hammer it), or `seconds` have passed."""
    waits = [asyncio.ensure_future(stop.wait())]
    if due is not None:
        waits.append(asyncio.ensure_future(due.event.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
