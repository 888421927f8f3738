"""Keyset pagination: a cursor is the last id seen, so pages stay stable under inserts."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.queryset import QuerySet

from resolvers.errors import invalid

T = TypeVar("T")

MAX_PAGE_SIZE = 500
# Keys are 32-bit INTEGER ids: a larger cursor was never issued, and sent to the database
# it overflows (PostgreSQL refuses it, SQLite's driver raises) instead of meaning anything.
MAX_KEY = 2**31 - 1
_KEY = re.compile(r"k:([0-9]{1,10})")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    end_cursor: str | None
    has_next_page: bool
    # Everything the filters match, over all pages (staff queues ask for it).
    total_count: int | None = None


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> int:
    """The key of a cursor we issued; anything else (garbage, a negative, a float, a number
    beyond the ids' range) is the caller's error naming the argument, never a server error."""
    match = None
    if len(cursor) <= 64:  # ours are ~16 characters; don't decode megabytes to refuse them
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            match = _KEY.fullmatch(base64.urlsafe_b64decode(padded.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            match = None
    if match is None or int(match.group(1)) > MAX_KEY:
        raise invalid(
            field,
            f"sayfa imleci ({field}) tanınmadı; önceki sayfanın endCursor değerini gönderin",
            f"the page cursor ({field}) is not recognised; send the previous page's endCursor",
        )
    return int(match.group(1))


def check_page_size(first: int, field: str = "first") -> int:
    if first < 1 or first > MAX_PAGE_SIZE:
        raise invalid(
            field,
            f"sayfa boyutu 1 ile {MAX_PAGE_SIZE} arasında olmalı",
            f"page size must be between 1 and {MAX_PAGE_SIZE}",
        )
    return first


async def paginate(
    query: QuerySet[T],
    first: int,
    after: str | None,
    newest_first: bool = True,
    count: bool = False,
) -> Page[T]:
    """Page through `query` by primary key (newest first by default); `count` adds the
    total (one COUNT: fine for staff queues, not for the operators' feeds)."""
    check_page_size(first)
    total = await query.count() if count else None
    if after is not None:
        key = decode_cursor(after)
        query = query.filter(id__lt=key) if newest_first else query.filter(id__gt=key)
    rows = await query.order_by("-id" if newest_first else "id").limit(first + 1)
    has_next = len(rows) > first
    rows = rows[:first]
    end = encode_cursor(rows[-1].id) if rows else None  # type: ignore[attr-defined]
    return Page(items=rows, end_cursor=end, has_next_page=has_next, total_count=total)
