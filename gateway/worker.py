"""The job worker: `mcks worker`, or a task inside the server on the embedded default."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from resolvers import jobs
from resolvers.job_kinds import load_handlers

log = logging.getLogger("mcks.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


SCHEDULE_EVERY_SECONDS = 30.0


async def run_forever(
    stop: asyncio.Event, poll_seconds: float = 1.0, lease_seconds: int = 600
) -> None:
    schedulers = load_handlers()
    me = worker_id()
    log.info("worker %s started", me)
    next_schedule = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        if loop.time() >= next_schedule:
            next_schedule = loop.time() + SCHEDULE_EVERY_SECONDS
            for schedule in schedulers:
                try:
                    await schedule()
                except Exception:  # one area's scheduler must not stop the others
                    log.exception("worker %s: scheduling %s failed", me, schedule.__module__)
        try:
            worked = await jobs.run_next(me, lease_seconds)
        except Exception:  # a database hiccup must not end the worker
            log.exception("worker %s: claiming failed", me)
            worked = False
        if not worked:
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
    log.info("worker %s stopped", me)
