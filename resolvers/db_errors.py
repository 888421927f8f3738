"""Which failures mean "the database cannot serve now" (answered 503, retried by clients and
jobs), as opposed to a bug or a rule (500 with a request id, or a user error)."""

from __future__ import annotations

import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError

# asyncpg's own classes for a connection that is gone or was never made, and PostgreSQL's
# classes 08 (connection exception), 53 (insufficient resources: too many connections) and
# 57 (operator intervention: terminated by an administrator, shutting down, starting up).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    DBConnectionError,
    ConnectionError,  # refused, reset, broken pipe (the socket under the driver)
    asyncpg.InterfaceError,  # "connection is closed", "released back to the pool"
    # "cannot switch to state …; another operation is in progress": a connection whose
    # backend was terminated mid-protocol (asyncpg closes it on release).
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
    asyncpg.CannotConnectNowError,
)


def is_database_unavailable(error: BaseException | None) -> bool:
    """True when `error`, or what it was raised from, says the database is out of reach."""
    seen = 0
    while error is not None and seen < 8:  # tortoise wraps driver errors: follow the chain
        if isinstance(error, _UNAVAILABLE):
            return True
        if seen == 0 and isinstance(error, TimeoutError):
            return True  # asyncpg's connect timeout (an HTTP client's is wrapped: not ours)
        if isinstance(error, OSError) and error.errno is not None and "connect" in str(error):
            return True  # "Multiple exceptions: [Errno 111] Connect call failed" and alike
        if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
