"""The job worker: `mcks worker`, or a task inside the server on the embedded default."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from tortoise import connections

from resolvers import jobs
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
    schedulers = load_handlers()
    me = worker_id()
    log.info("worker %s started", me)
    next_schedule = 0.0
    loop = asyncio.get_running_loop()
    outage = False
    while not stop.is_set():
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
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
    log.info("worker %s stopped", me)
