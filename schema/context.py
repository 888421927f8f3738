"""What every resolver gets: the actor, the caller's language, the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from strawberry.types import Info

from resolvers.actor import Actor

SUPPORTED = ("tr", "en")  # Turkish first: the default, and the winner of a tie
# A header is a few tags; a longer one is not worth parsing (it is not a browser's).
MAX_HEADER = 512


def preferred_language(accept_language: str | None) -> str:
    """The supported language the caller weighs highest (RFC 9110 §12.5.4: `q` weights,
    `q=0` = not acceptable, `*` = any other); Turkish when nothing matches or on a tie."""
    if not accept_language:
        return "tr"
    header = accept_language[:MAX_HEADER]
    if "," not in header and ";" not in header:  # the common case, on every request
        return "en" if header.strip().lower()[:2] == "en" else "tr"
    weights: dict[str, float] = {}
    wildcard: float | None = None
    for part in header.split(","):
        tag, _, params = part.partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, raw = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(raw.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a garbled weight counts as not acceptable
        if tag == "*":
            wildcard = q if wildcard is None else max(wildcard, q)
            continue
        primary = tag.split("-", 1)[0]
        if primary in SUPPORTED:
            # The most specific range decides (en-GB;q=0 next to en): take the highest seen.
            weights[primary] = max(weights.get(primary, 0.0), q) if primary in weights else q
    if wildcard is not None:
        for language in SUPPORTED:
            weights.setdefault(language, wildcard)
    best = max(SUPPORTED, key=lambda language: weights.get(language, 0.0))
    return best if weights.get(best, 0.0) > 0 else "tr"


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
