"""The one clock every rule reads, so tests can freeze and move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def freeze(at: datetime) -> None:
    global _frozen
    _frozen = at if at.tzinfo else at.replace(tzinfo=UTC)


def advance(delta: timedelta) -> None:
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset = _offset + delta


def reset() -> None:
    global _frozen, _offset
    _frozen = None
    _offset = timedelta(0)
