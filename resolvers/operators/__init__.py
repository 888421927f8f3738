"""The operator interface: IMEI checks, list sync, blacklist, observations, clone detection.

Modules: `checks` (checkImeis and the public query), `lookup` (the set-based facts behind
them), `feed` (the change feeds), `exports` (streamed CSV lists), `blacklist`,
`observations`, `clones` (the periodic detector and its scheduling), `greylist` (first
attaches, the grey feed, grace ending soon, their retention), `quota` (per-client check
quotas counted in the database), `rate_limit` (the public query's in-process limit).
"""

from __future__ import annotations

from resolvers.operators.clones import schedule_periodic

__all__ = ["schedule_periodic"]
