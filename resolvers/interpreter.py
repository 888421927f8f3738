"""Sharing the interpreter with the requests a process serves while a big list is worked on.

The collector: staging and analysing a list build millions of objects that hold no cycles
(tuples, strings, sets), freed by reference counting; each time the heap grows by a quarter
the cycle collector walks all of them, every thread of the process stopped. Measured on a
1,000,000-IMEI list: 16 full collections in the analysis, the longest 2.2 s on a loaded
machine, and 13 in the upload, the longest 130 ms, which were the p99 of the operators'
checks served meanwhile. It is paused while a list is worked on.

The switch interval: while the checks' pure Python runs in a thread, a request handled on
the event loop waits for the interpreter lock at each await, up to the interval each time
(5 ms by default: a check took 16 ms at the median during an analysis). It is shortened to
a millisecond while such a thread runs.

Runs that overlap share one setting: the default comes back after the last.

Freeing: a million-device list let go at once is freed in one call, which holds the lock
(and the event loop) throughout: 165 ms for an analysed window's devices. `release` frees
such containers in a thread, a small slice per step, the switches short: the event loop
takes the lock between steps, as it does while the checks run. (Freed on the loop itself,
20,000 items between two turns of it, the longest pause went but the operators' p99 during
a 1M analysis rose from 35-41 ms to 54-89 ms: every request of those 200 ms waited.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

SHORT_SWITCH_INTERVAL = 0.001
#: Items `release` frees in one step (well under a millisecond).
RELEASED_AT_ONCE = 2_000


def _shared(
    start: Callable[[], None], end: Callable[[], None]
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A context manager whose overlapping uses share one `start` … `end`."""
    holds = 0

    @contextlib.contextmanager
    def held() -> Iterator[None]:
        nonlocal holds
        holds += 1
        if holds == 1:
            start()
        try:
            yield
        finally:
            holds -= 1
            if holds == 0:
                end()

    return held


_default_interval = sys.getswitchinterval()


def _shorten() -> None:
    global _default_interval
    _default_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(_default_interval, SHORT_SWITCH_INTERVAL))


collector_paused = _shared(gc.disable, gc.enable)
short_switches = _shared(_shorten, lambda: sys.setswitchinterval(_default_interval))


def with_collector_paused(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate a use case that works on a big list: the collector paused around all of it."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return await function(*args, **kwargs)

    return wrapper


async def release(*containers: list[Any] | dict[Any, Any]) -> None:
    """Empty these containers in a thread, a slice per step (see the module's doc). They
    are emptied in place: only for what nothing else still reads."""
    with short_switches():
        await asyncio.to_thread(_empty, containers)


def _empty(containers: tuple[list[Any] | dict[Any, Any], ...]) -> None:
    for container in containers:
        while container:
            if isinstance(container, list):
                del container[-RELEASED_AT_ONCE:]
            else:
                for _ in range(min(RELEASED_AT_ONCE, len(container))):
                    container.popitem()
