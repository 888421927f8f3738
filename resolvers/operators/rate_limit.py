"""A per-client token bucket, in the process's memory.

Per process: with N gateway replicas a client gets up to N times the rate. That is enough to
stop a scraper hammering one replica; a shared limit would need a shared store.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from resolvers.errors import DomainError, ErrorCode


class TokenBuckets:
    """`per_minute` requests a minute per key, with bursts up to the same number."""

    def __init__(self, max_keys: int = 100_000) -> None:
        # key → (tokens, last refill); least recently used first, so memory stays bounded.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    def take(self, key: str, per_minute: int) -> None:
        """Spend one token of `key`, or raise RATE_LIMITED with the seconds to wait."""
        if per_minute <= 0:
            return  # 0 turns the limit off
        now = time.monotonic()
        tokens, last = self._buckets.pop(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - last) * per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = math.ceil((1.0 - tokens) * 60.0 / per_minute)
            raise DomainError(ErrorCode.RATE_LIMITED, seconds=wait)
        self._buckets[key] = (tokens - 1.0, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)

    def clear(self) -> None:
        self._buckets.clear()


PUBLIC_QUERIES = TokenBuckets()
