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
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

SHORT_SWITCH_INTERVAL = 0.001

_paused = 0
_short = 0
_default_interval = sys.getswitchinterval()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    global _paused
    _paused += 1
    if _paused == 1:
        gc.disable()
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0:
            gc.enable()


@contextlib.contextmanager
def short_switches() -> Iterator[None]:
    global _short, _default_interval
    _short += 1
    if _short == 1:
        _default_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_default_interval, SHORT_SWITCH_INTERVAL))
    try:
        yield
    finally:
        _short -= 1
        if _short == 0:
            sys.setswitchinterval(_default_interval)
