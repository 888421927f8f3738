"""What every resolver gets: the actor, the caller's language, the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from strawberry.types import Info

from resolvers.actor import Actor


def preferred_language(accept_language: str | None) -> str:
    """Turkish unless the caller prefers English (Accept-Language, first match wins)."""
    if not accept_language:
        return "tr"
    for part in accept_language.split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("tr"):
            return "tr"
    return "tr"


@dataclass
class Context:
    request: Request | None
    actor: Actor
    lang: str = "tr"
    loaders: dict[str, Any] = field(default_factory=dict)
    # checkImeis: IMEIs asked so far in this request, every alias counted.
    imeis_asked: int = 0
    # strawberry's sub-response: its status code becomes the HTTP status (503 when the
    # database is out of reach, see schema.errors.ErrorPolicy).
    response: Any = None
    # WebSocket sessions: closes the socket of a subscriber that fell behind (4413).
    close_slow_consumer: Callable[[], Awaitable[None]] | None = None


def actor_of(info: Info) -> Actor:
    return info.context.actor  # type: ignore[no-any-return]


def lang_of(info: Info) -> str:
    return info.context.lang  # type: ignore[no-any-return]


def overflow_of(info: Info) -> Callable[[], Awaitable[None]]:
    """What a subscription calls when its consumer cannot keep up."""
    close = info.context.close_slow_consumer
    if close is None:  # not a WebSocket session: nothing to close, end the stream
        raise RuntimeError("subscriptions run only in WebSocket sessions")
    return close  # type: ignore[no-any-return]
