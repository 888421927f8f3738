"""The database: Tortoise configuration, start-up and versioned migrations."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from models import MODEL_MODULES
from resolvers.settings import Settings, get_settings, normalise_database_url


async def keep_session(connection: Any) -> None:
    """asyncpg's pool reset, minus its round trip.

    By default a connection going back to the pool runs `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL` — one more round trip for every query made outside a
    transaction, which doubled the database work of operators' checks. The gateway leaves
    no session state to undo: its advisory locks are transaction-scoped, its cursors live
    inside transactions, and it never SETs, LISTENs or creates temporary tables. asyncpg
    still rolls back a transaction left open before calling this."""


def _connection(url: str, settings: Settings) -> str | dict[str, Any]:
    if not url.startswith("postgres://"):
        if not url.startswith("sqlite://"):
            return url
        # tortoise's SQLite client with a reading connection beside the transactions (see
        # gateway.sqlite_client).
        expanded = expand_db_url(url)
        expanded["engine"] = "gateway.sqlite_client"
        return expanded
    expanded = expand_db_url(url)
    # tortoise's asyncpg client with transactions that release a connection whose BEGIN
    # failed (see gateway.db_client).
    expanded["engine"] = "gateway.db_client"
    credentials = expanded["credentials"]
    credentials["reset"] = keep_session
    # Sizes given in the URL (?minsize=&maxsize=) win over the settings.
    credentials.setdefault("maxsize", settings.db_pool_max)
    credentials.setdefault("minsize", min(settings.db_pool_min, int(credentials["maxsize"])))
    return expanded


def tortoise_config(
    database_url: str | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    settings = settings or get_settings()
    url = normalise_database_url(database_url or settings.database_url)
    return {
        "connections": {"default": _connection(url, settings)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(connection: str | dict[str, Any]) -> None:
    if isinstance(connection, str) or connection["engine"] != "gateway.sqlite_client":
        return  # PostgreSQL: nothing to create
    path = connection["credentials"]["file_path"]
    if ":memory:" not in path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def init_db(database_url: str | None = None) -> None:
    config = tortoise_config(database_url)
    _ensure_sqlite_dir(config["connections"]["default"])
    # Tortoise caches INSERT statements by connection name, not dialect: a process that
    # meets SQLite and then PostgreSQL (tests, the CLI) must not reuse `?` statements.
    EXECUTOR_CACHE.clear()
    # The global fallback lets request tasks started by the server see the ORM state.
    await Tortoise.init(config=config, _enable_global_fallback=True)


async def close_db() -> None:
    # Also clears the global fallback context, so the ORM can be started again (tests).
    await Tortoise.close_connections()


async def migrate(database_url: str | None = None) -> None:
    """Apply every pending migration (what `mcks migrate` runs)."""
    config = tortoise_config(database_url)
    _ensure_sqlite_dir(config["connections"]["default"])
    try:
        await tortoise_migrate(config=config)
    finally:
        await Tortoise.close_connections()


async def ping(deadline: float | None = None) -> bool:
    """The database answers a query within `deadline` seconds (through the pool: an exhausted
    or wedged pool does not answer either)."""
    try:
        async with asyncio.timeout(deadline):
            await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


# For `tortoise -c gateway.db.TORTOISE_ORM makemigrations` during development.
TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL") or "sqlite://var/dev-migrations.sqlite3", Settings()
)
