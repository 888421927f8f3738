"""A database of a test's own, migrated to a given migration (the suite's shared one stays
at the newest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.models import Model

from gateway.db import tortoise_config
from resolvers import bulk
from tests.conftest import ON_POSTGRES, PG_URL


async def own_database(tmp_path: Path, suffix: str) -> AsyncIterator[str]:
    """The URL of an empty database (for a fixture: dropped afterwards on PostgreSQL)."""
    if not ON_POSTGRES:
        yield f"sqlite://{tmp_path}/{suffix}.sqlite3"
        return
    server, _, name = PG_URL.rpartition("/")
    name = f"{name.split('?')[0]}_{suffix}"
    admin = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{server}/{name}"
    finally:
        await Tortoise.close_connections()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def migrate_to(url: str, target: str | None = None) -> None:
    """Forward or back to `target` ("models.0016_…"; None: the newest)."""
    try:
        await tortoise_migrate(config=tortoise_config(url), target=target)
    finally:
        await Tortoise.close_connections()


async def index_names(table: str) -> set[str]:
    """The names of `table`'s indexes (on PostgreSQL its primary key's too)."""
    if bulk.is_postgres(bulk.current()):
        rows = await bulk.select("SELECT indexname FROM pg_indexes WHERE tablename = ?", [table])
    else:
        rows = await bulk.select(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
        )
    return {str(r[0]) for r in rows}


async def column_names(table: str) -> set[str]:
    """The names of `table`'s columns, as the migration the database is at has them."""
    if bulk.is_postgres(bulk.current()):
        rows = await bulk.select(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        )
    else:
        rows = await bulk.select("SELECT name FROM pragma_table_info(?)", [table])
    return {str(r[0]) for r in rows}


async def create_then(model: type[Model], **values: Any) -> int:
    """A `model` row with its defaults and `values`, written into the columns its table has
    at the migration the database is at (a later migration may have added fields, which
    the ORM would write and read); its id."""
    meta = model._meta
    instance = model(**values)
    present = await column_names(meta.db_table)
    pairs = [
        (column, meta.fields_map[name].to_db_value(getattr(instance, name), instance))
        for name, column in meta.fields_db_projection.items()
        if column in present and name != meta.pk_attr
    ]
    conn = bulk.current()
    names = ", ".join(f'"{column}"' for column, _ in pairs)
    # A query's answer whatever its verb (tortoise's asyncpg `execute_query` fetches no
    # rows of an INSERT).
    [created] = await conn.execute_query_dict(
        f'INSERT INTO "{meta.db_table}" ({names}) '
        f"VALUES ({bulk.placeholders(conn, len(pairs))}) RETURNING id",
        [value for _, value in pairs],
    )
    return int(created["id"])
