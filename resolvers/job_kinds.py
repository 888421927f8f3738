"""Imports every module that registers job handlers, so a worker knows them all."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

HANDLER_MODULES: tuple[str, ...] = (
    "resolvers.applications.analysis",
    "resolvers.workflow.notifications",
    "resolvers.workflow.customs_reminders",
    "resolvers.operators.clones",
    "resolvers.operators.retention",
    "resolvers.operators.greylist",
    "resolvers.operators.quota",
    "resolvers.file_sweep",
    "resolvers.individuals.verification",
    "resolvers.individuals.deadline",
    "resolvers.accounts.throttle",
    "resolvers.event_retention",
)


def load_handlers() -> list[Callable[[], Awaitable[None]]]:
    """Import the handler modules; return their periodic schedulers.

    A module that has periodic work defines `async def schedule_periodic()`, which enqueues
    its job with a dedupe key per time slot, so calling it often is cheap and idempotent.
    """
    schedulers = []
    for name in HANDLER_MODULES:
        module = importlib.import_module(name)
        scheduler = getattr(module, "schedule_periodic", None)
        if scheduler is not None:
            schedulers.append(scheduler)
    return schedulers
