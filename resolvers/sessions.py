"""Tells the processes when a session may have ended (logout, revocation, deactivation, a
password or allowlist change), without the use cases knowing who listens.

The gateway registers its listeners (the token cache, open WebSocket sessions) at start; a
use case calls `sessions_changed()` after its transaction commits. Listeners are in-process
only: other processes notice through their own short cache lifetimes and re-checks.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[], None]

_listeners: list[Listener] = []


def on_sessions_changed(listener: Listener) -> None:
    """Register `listener` once; registering it again changes nothing."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def sessions_changed() -> None:
    """Call after anything that may end a session or change who may use it."""
    for listener in list(_listeners):
        listener()
