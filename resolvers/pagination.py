"""Keyset pagination: a cursor is the last id seen, so pages stay stable under inserts."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.queryset import QuerySet

from resolvers.errors import invalid

T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    end_cursor: str | None
    has_next_page: bool


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith("k:"):
            raise ValueError(cursor)
        return int(text[2:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(field, "sayfa imleci tanınmadı", "the page cursor is not recognised") from exc


def check_page_size(first: int, field: str = "first") -> int:
    if first < 1 or first > MAX_PAGE_SIZE:
        raise invalid(
            field,
            f"sayfa boyutu 1 ile {MAX_PAGE_SIZE} arasında olmalı",
            f"page size must be between 1 and {MAX_PAGE_SIZE}",
        )
    return first


async def paginate(
    query: QuerySet[T], first: int, after: str | None, newest_first: bool = True
) -> Page[T]:
    """Page through `query` by primary key (newest first by default)."""
    check_page_size(first)
    if after is not None:
        key = decode_cursor(after)
        query = query.filter(id__lt=key) if newest_first else query.filter(id__gt=key)
    rows = await query.order_by("-id" if newest_first else "id").limit(first + 1)
    has_next = len(rows) > first
    rows = rows[:first]
    end = encode_cursor(rows[-1].id) if rows else None  # type: ignore[attr-defined]
    return Page(items=rows, end_cursor=end, has_next_page=has_next)
