"""tortoise-orm's asyncpg client, with pooled transactions that give their connection back.

tortoise-orm 1.1.9 (the newest release; its repository has no fix either) takes a pool
connection and points the task's connection context at the new transaction *before* it sends
BEGIN. When BEGIN fails (the backend was terminated, the server restarts), `__aexit__` never
runs: the connection is never released and the task keeps a dead transaction as its
connection. Each failure loses one pool slot; once the pool is empty every query of the
process waits for ever, and a long-lived task (the worker) fails every later query with
"connection has been released back to the pool".

Every transaction the gateway opens — ours through `in_transaction()`, tortoise's own in
`get_or_create` and the migrations — comes from the client's `_in_transaction()`, so the fix
lives here, in the client class `gateway.db` configures (`engine = "gateway.db_client"`).
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections

log = logging.getLogger("mcks.db")


class ReleasingTransactionContext(TransactionContextPooled):
    """A pooled transaction that undoes its own start when the start fails."""

    async def __aenter__(self) -> TransactionalDBClient:
        try:
            return await super().__aenter__()
        except BaseException:  # cancellation too: the slot must come back either way
            await self._undo_start()
            raise

    async def _undo_start(self) -> None:
        token = getattr(self, "token", None)  # set only once a connection was taken
        if token is None:
            return  # the pool gave nothing (it could not connect): nothing to give back
        connection = self.client._connection
        get_connections().reset(token)
        pool = self.client._parent._pool
        if pool is not None and connection is not None:
            try:
                # asyncpg closes a broken connection and frees its slot for a fresh one.
                await pool.release(connection)
            except Exception:
                log.warning("could not release a connection whose BEGIN failed", exc_info=True)

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        finally:
            # tortoise resets the context after releasing; a failed release skips the reset.
            if not self.token._used:
                get_connections().reset(self.token)


class GatewayAsyncpgClient(AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)


# What tortoise looks up in an engine module.
client_class = GatewayAsyncpgClient
