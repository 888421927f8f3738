"""Test fixtures: a migrated database per test (SQLite by default, PostgreSQL when
DATABASE_URL points at one), the app over httpx's ASGI transport, a frozen-able clock."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.contrib.test import truncate_all_models

from gateway.db import close_db, init_db, migrate
from models import clock
from resolvers.operators import quota
from resolvers.settings import Settings, configure, normalise_database_url

PG_URL = normalise_database_url(os.environ.get("DATABASE_URL", ""))
ON_POSTGRES = PG_URL.startswith("postgres://")

TEST_SETTINGS = Settings(
    env="test",
    secret_key="test-secret",
    # Cheap argon2 so the suite stays fast; production uses the RFC 9106 profile.
    argon2_time_cost=1,
    argon2_memory_kib=1024,
    argon2_parallelism=1,
    graphql_ide=False,
    # A database per test: small pools open fast.
    db_pool_min=1,
    db_pool_max=5,
)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: a template SQLite file, or the PostgreSQL test database."""
    configure(TEST_SETTINGS)
    if ON_POSTGRES:
        asyncio.run(migrate(PG_URL))
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return str(path)


@pytest.fixture
def settings() -> Iterator[Settings]:
    yield configure(replace(TEST_SETTINGS))
    configure(TEST_SETTINGS)


@pytest.fixture
async def db(migrated_template: str, tmp_path: Path, settings: Settings) -> AsyncIterator[str]:
    """A clean, migrated database for one test."""
    if ON_POSTGRES:
        url = migrated_template
        await init_db(url)
        await truncate_all_models()
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template, path)
        url = f"sqlite://{path}"
        await init_db(url)
    configure(replace(settings, database_url=url))
    try:
        yield url
    finally:
        await close_db()
        clock.reset()
        quota.reset()


@pytest.fixture
def app(db: str) -> Any:
    from gateway.app import create_app

    return create_app(manage_db=False)


ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def make_client(app: Any) -> AsyncIterator[ClientFactory]:
    """httpx clients over the ASGI app, each from a chosen peer address."""
    clients: list[httpx.AsyncClient] = []

    def factory(ip: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> httpx.AsyncClient:
    return make_client()
