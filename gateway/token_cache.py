"""Bearer token → actor, remembered for a few seconds in this process (the operators' hot path).

Off unless `MCKS_TOKEN_CACHE_SECONDS` > 0. Keyed by token AND client address, so the IP
allowlist is still checked for every new address. Logout, token revocation, deactivation,
password changes and allowlist edits clear it in the process that makes them; another
gateway process notices within the configured seconds (its entries simply expire).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from resolvers.actor import Actor
from resolvers.sessions import on_sessions_changed

MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[float, Actor]] = OrderedDict()
        self._max_entries = max_entries

    def get(self, token: str, ip: str) -> Actor | None:
        entry = self._entries.get((token, ip))
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop((token, ip), None)
            return None
        return entry[1]

    def put(self, token: str, ip: str, actor: Actor, ttl_seconds: int) -> None:
        self._entries[(token, ip)] = (time.monotonic() + ttl_seconds, actor)
        self._entries.move_to_end((token, ip))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


TOKENS = TokenCache()
# The use cases announce ended sessions through resolvers.sessions; this process forgets.
on_sessions_changed(TOKENS.clear)
