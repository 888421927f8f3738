"""The operator interface: IMEI checks, list sync, blacklist, observations, clone detection.

Modules: `checks` (checkImeis and the public query), `lookup` (the set-based facts behind
them), `feed` (the change feeds), `exports` (streamed CSV lists), `blacklist`,
`observations`, `clones` (the periodic detector and its scheduling), `rate_limit`.
"""

from __future__ import annotations

from resolvers.operators.clones import schedule_periodic

__all__ = ["schedule_periodic"]
