"""The push channel's use cases: follow a feed or an event stream from a cursor.

Every subscription is a cursor over a table read in id order (the list feeds' change logs,
or `event_log`), so it is the HTTP feed read again whenever `resolvers.events` says its
topic may have changed: first everything after the cursor, then the live changes, in feed
order, never a gap or a repeat, whatever notifications were lost.

Flow control: a reader task fills a bounded queue of pages and the subscriber drains it. While
it catches up on history the reader waits for room (the consumer sets the pace); once it has
reached the live end, a queue that is still full when a new page arrives means the consumer
cannot keep up: `on_overflow` is called (the gateway closes the socket, 4413) and the client
resumes from the last cursor it received.

Reads are shared: subscribers of one process at the same cursor (typically all of them, a
moment after a change) get one query's page, not one query each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from models.events import EventLog, EventTopic
from resolvers import bulk, events
from resolvers.actor import Actor
from resolvers.after import pairing_changes
from resolvers.applications.access import get_application
from resolvers.errors import DomainError, ErrorCode
from resolvers.individuals.access import SUBMITTERS
from resolvers.operators import feed, greylist
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, decode_cursor, encode_cursor
from resolvers.settings import get_settings

T = TypeVar("T")

# Re-read this often even without a notification: a safety net, not the delivery path.
SAFETY_POLL_SECONDS = 30.0
MAX_SHARED_READS = 1024


class SlowConsumer(Exception):
    """The subscriber fell further behind than its queue allows."""


# Consumers closed for falling behind, in this process (for operations and tests).
overflows = 0


# --- shared reads ------------------------------------------------------------------------

_reads: dict[Hashable, asyncio.Future[Any]] = {}


async def shared_read(topic: str, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """`read()`, or the result of the same read started since the topic's last wake-up.

    A page read after wake-up N holds everything committed before notification N; a later
    commit bumps the generation, so nobody is served a page older than their own wake-up."""
    full_key = (topic, events.generation(topic), key)
    future = _reads.get(full_key)
    if future is None:
        if len(_reads) >= MAX_SHARED_READS:
            for old in list(_reads)[: MAX_SHARED_READS // 2]:
                if _reads[old].done():
                    del _reads[old]
        future = asyncio.ensure_future(read())
        _reads[full_key] = future

        def forget_failures(done: asyncio.Future[Any]) -> None:
            if done.cancelled() or done.exception() is not None:
                _reads.pop(full_key, None)

        future.add_done_callback(forget_failures)
    # shield: one subscriber leaving must not cancel the read the others wait for.
    return await asyncio.shield(future)  # type: ignore[no-any-return]


# --- following ---------------------------------------------------------------------------


async def follow(
    topics: tuple[str, ...],
    read: Callable[[str | None], Awaitable[Page[T]]],
    after: str | None,
    on_overflow: Callable[[], Awaitable[None]],
) -> AsyncIterator[Page[T]]:
    """Pages of items after `after`: history first, then live, until the caller stops."""
    limit = get_settings().subscription_queue_pages
    queue: asyncio.Queue[Page[T] | BaseException] = asyncio.Queue(maxsize=max(limit, 0))
    with events.listening(*topics) as signal:

        async def produce() -> None:
            cursor = after
            live = False
            try:
                while True:
                    signal.clear()
                    page = await read(cursor)
                    if page.items:
                        if live and limit and queue.full():
                            global overflows
                            overflows += 1
                            await on_overflow()
                            raise SlowConsumer()
                        await queue.put(page)
                    cursor = page.end_cursor or cursor
                    if page.has_next_page:
                        continue
                    live = True
                    await signal.wait(SAFETY_POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # handed to the consumer, which raises it
                await queue.put(error)

        producer = asyncio.create_task(produce())
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            producer.cancel()
            try:
                await producer
            except BaseException:
                pass


# --- the list feeds ----------------------------------------------------------------------


def whitelist(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[feed.WhitelistFeedItem]]:
    return _follow_feed(events.WHITELIST, feed.whitelist_changes, actor, after, first, on_overflow)


def blacklist(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[feed.BlacklistFeedItem]]:
    return _follow_feed(events.BLACKLIST, feed.blacklist_changes, actor, after, first, on_overflow)


def pairings(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[pairing_changes.PairingFeedItem]]:
    return _follow_feed(
        events.PAIRING, pairing_changes.pairing_changes, actor, after, first, on_overflow
    )


def greylist_changes(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[greylist.GreylistFeedItem]]:
    return _follow_feed(
        events.GREYLIST, greylist.greylist_changes, actor, after, first, on_overflow
    )


async def _follow_feed(
    topic: str,
    read: Callable[[Actor, str | None, int], Awaitable[Page[T]]],
    actor: Actor,
    after: str | None,
    first: int,
    on_overflow: Callable[[], Awaitable[None]],
) -> AsyncIterator[Page[T]]:
    feed._page_bounds(actor, after, first)  # refuses a reader who may not, bad cursor or size

    def page(cursor: str | None) -> Awaitable[Page[T]]:
        # Every permitted reader gets the same page: share it across actors.
        return shared_read(topic, (cursor, first), lambda: read(actor, cursor, first))

    async for item in follow((topic,), page, after, on_overflow):
        yield item


# --- the event log -----------------------------------------------------------------------


@dataclass(slots=True)
class Event:
    cursor: str
    subject_id: int
    firm_id: int | None
    kind: str
    status: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class _Scope:
    topic: EventTopic
    firm_id: int | None = None
    client_id: int | None = None
    subject_id: int | None = None


async def _latest_id(scope: _Scope) -> int:
    connection = bulk.current()
    sql = "SELECT MAX(id) FROM event_log WHERE topic = ?"
    if bulk.is_postgres(connection):
        sql = sql.replace("?", "$1")
    _, rows = await connection.execute_query(sql, [scope.topic.value])
    return int(rows[0][0] or 0) if rows else 0


async def _event_page(scope: _Scope, after_id: int, first: int) -> Page[Event]:
    query = EventLog.filter(topic=scope.topic, id__gt=after_id)
    if scope.firm_id is not None:
        query = query.filter(firm_id=scope.firm_id)
    if scope.client_id is not None:
        query = query.filter(client_id=scope.client_id)
    if scope.subject_id is not None:
        query = query.filter(subject_id=scope.subject_id)
    rows = await query.order_by("id").limit(first + 1)
    items = [
        Event(
            cursor=encode_cursor(row.id),
            subject_id=row.subject_id,
            firm_id=row.firm_id,
            kind=row.kind,
            status=row.status,
            reason=row.reason,
            at=as_datetime(row.at),
        )
        for row in rows[:first]
    ]
    end = rows[min(len(rows), first) - 1].id if rows else after_id
    return Page(items=items, end_cursor=encode_cursor(end), has_next_page=len(rows) > first)


async def _follow_events(
    scope: _Scope, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[Event]]:
    # No cursor: from now on (what happened before is in the queries).
    after_id = decode_cursor(after) if after else await _latest_id(scope)

    def page(cursor: str | None) -> Awaitable[Page[Event]]:
        cursor_id = decode_cursor(cursor) if cursor else after_id
        key = (scope, cursor_id, first)
        return shared_read(scope.topic.value, key, lambda: _event_page(scope, cursor_id, first))

    async for item in follow((scope.topic.value,), page, encode_cursor(after_id), on_overflow):
        yield item


async def application_statuses(
    actor: Actor,
    application_id: int | None,
    after: str | None,
    first: int,
    on_overflow: Callable[[], Awaitable[None]],
) -> AsyncIterator[Page[Event]]:
    """Status changes of one application, or of every application the actor may see: a
    firm's users their firm's, staff all."""
    if not (actor.is_staff or (actor.is_firm and actor.firm_id is not None)):
        raise DomainError(ErrorCode.FORBIDDEN)
    if application_id is not None:
        await get_application(actor, application_id)  # not found = not yours
    scope = _Scope(
        EventTopic.APPLICATION,
        firm_id=None if actor.is_staff else actor.firm_id,
        subject_id=application_id,
    )
    async for page in _follow_events(scope, after, first, on_overflow):
        yield page


async def registration_outcomes(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[Event]]:
    """Outcomes of the registrations a client submitted (staff: everybody's)."""
    if actor.is_staff:
        scope = _Scope(EventTopic.REGISTRATION)
    elif actor.role in SUBMITTERS and actor.id is not None:
        scope = _Scope(EventTopic.REGISTRATION, client_id=actor.id)
    else:
        raise DomainError(ErrorCode.FORBIDDEN)
    async for page in _follow_events(scope, after, first, on_overflow):
        yield page


async def job_failures(
    actor: Actor, after: str | None, first: int, on_overflow: Callable[[], Awaitable[None]]
) -> AsyncIterator[Page[Event]]:
    """Jobs given up and verification batches that could not be sent (staff)."""
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    async for page in _follow_events(_Scope(EventTopic.JOB), after, first, on_overflow):
        yield page


__all__ = ["Event", "SlowConsumer", "follow", "shared_read"]
