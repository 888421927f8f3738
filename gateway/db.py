"""The database: Tortoise configuration, start-up and versioned migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from gateway.settings import get_settings, normalise_database_url
from models import MODEL_MODULES


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = normalise_database_url(database_url or get_settings().database_url)
    return {
        "connections": {"default": url},
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


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = url[len("sqlite://") :].split("?", 1)[0]
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


async def ping() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


# For `tortoise -c gateway.db.TORTOISE_ORM makemigrations` during development.
TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL") or "sqlite://var/dev-migrations.sqlite3"
)
