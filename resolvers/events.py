"""Wake-ups for the push channel (GraphQL subscriptions), below the processes.

A use case that changes something a subscriber follows calls `notify(topic)` inside its
writing transaction, or `record(...)` for the events that have no change log of their own
(application status changes, registrations' outcomes, the job queue's failures: the
`event_log` table). A notification carries only the topic: subscribers read what changed
from the tables after their cursor, so a lost or doubled notification loses nothing and
repeats nothing.

- PostgreSQL: `SELECT pg_notify(...)` on the transaction's connection, delivered by the
  server only when the transaction commits, to every process that listens (the gateway runs
  one LISTEN connection per process and calls `dispatch`).
- SQLite (one process): `dispatch` runs once the caller's transaction has ended (it waits
  for the connection's lock the transaction holds), so a woken reader reads committed rows;
  after a rollback it finds nothing new. Readers do not queue behind a transaction any more
  (gateway.sqlite_client reads beside it): waking them earlier would show them nothing.

In the process, `listening(...)` hands a subscriber a `Signal` set by every dispatch of its
topics; `dispatch(None)` (after the listener reconnects) wakes everybody to re-read from
their cursors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.transactions import in_transaction

from models import clock
from models.events import EventLog, EventTopic, JobEventKind
from resolvers import bulk

CHANNEL = "mcks_events"  # the one PostgreSQL channel; the payload names the topic

# The list feeds' topics (their change logs are the tables).
WHITELIST = "WHITELIST"
BLACKLIST = "BLACKLIST"
PAIRING = "PAIRING"
GREYLIST = "GREYLIST"
# The workers' wake-up: a job is due now (no subscription follows it).
JOBS_DUE = "JOBS_DUE"
TOPICS = frozenset(
    {WHITELIST, BLACKLIST, PAIRING, GREYLIST, JOBS_DUE, *(t.value for t in EventTopic)}
)

# Advisory lock keys of the event log's topics (fixed forever, like the feeds' keys).
_EVENT_LOCKS = {
    EventTopic.APPLICATION: 0x4D434B5341,
    EventTopic.REGISTRATION: 0x4D434B5352,
    EventTopic.JOB: 0x4D434B534A,
}


async def notify(topic: str, connection: BaseDBAsyncClient | None = None) -> None:
    """Wake `topic`'s subscribers in every process once the caller's transaction commits."""
    connection = bulk.current(connection)
    if bulk.is_postgres(connection):
        await connection.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, topic])
    elif isinstance(connection, TransactionalDBClient):
        _pending_wakeups.add(asyncio.ensure_future(_after_transaction(connection, topic)))
    else:
        asyncio.get_running_loop().call_soon(dispatch, topic)


_pending_wakeups: set[asyncio.Future[None]] = set()  # held until done (tasks are weak refs)


async def _after_transaction(transaction: BaseDBAsyncClient, topic: str) -> None:
    """`dispatch(topic)` once the SQLite transaction (outermost, if nested) has released
    the process's connection."""
    client: Any = transaction
    while isinstance(client, TransactionalDBClient):
        client = getattr(client, "_parent", None)
    try:
        lock = getattr(client, "_lock", None)
        if isinstance(lock, asyncio.Lock):
            async with lock:
                pass
        dispatch(topic)
    finally:
        _pending_wakeups.discard(asyncio.current_task())  # type: ignore[arg-type]


async def record(
    topic: EventTopic,
    subject_id: int,
    status: str,
    reason: str = "",
    *,
    firm_id: int | None = None,
    client_id: int | None = None,
    kind: str = "",
) -> None:
    """Log an event and wake its subscribers: in the caller's transaction when there is one
    (the event commits with what it announces), else in a transaction of its own."""
    connection = bulk.current()
    if isinstance(connection, TransactionalDBClient):
        await _record(connection, topic, subject_id, status, reason, firm_id, client_id, kind)
        return
    async with in_transaction() as transaction:
        await _record(transaction, topic, subject_id, status, reason, firm_id, client_id, kind)


async def _record(
    connection: BaseDBAsyncClient,
    topic: EventTopic,
    subject_id: int,
    status: str,
    reason: str,
    firm_id: int | None,
    client_id: int | None,
    kind: str,
) -> None:
    # Ids handed out in commit order, as in the feeds (resolvers.registry_changes): a
    # subscriber that read up to id N never misses a smaller id committed later.
    if bulk.is_postgres(connection):
        await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [_EVENT_LOCKS[topic]])
    await EventLog.create(
        topic=topic,
        subject_id=subject_id,
        firm_id=firm_id,
        client_id=client_id,
        kind=kind[:32],
        status=status,
        reason=reason,
        at=clock.now(),
        using_db=connection,
    )
    await notify(topic.value, connection)


# What the use cases record (small hooks, so the modules they sit in stay as they are).


async def job_died(job_id: int, kind: str, error: str) -> None:
    await record(EventTopic.JOB, job_id, JobEventKind.DEAD.value, error, kind=kind)


async def batch_failed(batch_id: int, authority: str, error: str) -> None:
    await record(EventTopic.JOB, batch_id, JobEventKind.BATCH_FAILED.value, error, kind=authority)


async def registration_decided(
    registration_id: int, client_id: int, status: str, reason: str = ""
) -> None:
    await record(EventTopic.REGISTRATION, registration_id, status, reason, client_id=client_id)


# --- in the process: who is waiting --------------------------------------------------------


class Signal:
    """Set whenever one of its topics may have changed; the subscriber clears it before it
    reads, so a change committed during the read wakes it again."""

    __slots__ = ("event", "topics")

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.event = asyncio.Event()
        self.event.set()  # the first read happens at once

    def clear(self) -> None:
        self.event.clear()

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            pass


_waiting: dict[str, set[Signal]] = {}
_generations: dict[str, int] = {}


def generation(topic: str) -> int:
    """How many wake-ups `topic` has had in this process (keys the shared reads)."""
    return _generations.get(topic, 0)


def dispatch(topic: str | None) -> None:
    """Wake the subscribers of `topic` (None: of every topic, e.g. after a reconnect)."""
    topics = TOPICS if topic is None else (topic,)
    for name in topics:
        _generations[name] = _generations.get(name, 0) + 1
        for signal in _waiting.get(name, ()):
            signal.event.set()


@contextmanager
def listening(*topics: str) -> Iterator[Signal]:
    signal = Signal(frozenset(topics))
    for topic in signal.topics:
        _waiting.setdefault(topic, set()).add(signal)
    try:
        yield signal
    finally:
        for topic in signal.topics:
            _waiting.get(topic, set()).discard(signal)


def subscriber_count() -> int:
    return len({signal for signals in _waiting.values() for signal in signals})
