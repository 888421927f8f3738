"""Migration 0020: on PostgreSQL device_imei loses its primary key's index (never used,
maintained for every listed IMEI); its rows, its IMEI indexes and its ids stay; going back
restores the key. On SQLite the id is the rowid, and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.db import close_db, init_db
from models.applications import DeviceImei
from resolvers import bulk
from tests.conftest import ON_POSTGRES
from tests.support.migrations import index_names, migrate_to, own_database

BEFORE = "models.0019_derived_device_outcome"
KEY = "device_imei_pkey"
IMEI_INDEXES = {"idx_device_imei_applica_0fd19a", "idx_device_imei_imei_104916"}


@pytest.fixture
async def database(tmp_path, settings) -> AsyncIterator[str]:
    async for url in own_database(tmp_path, "m0020"):
        yield url


async def rows() -> list[tuple[int, int, int, str]]:
    found = await bulk.select(
        "SELECT id, application_id, row_number, imei FROM device_imei ORDER BY id"
    )
    return [(int(i), int(a), int(r), str(m)) for i, a, r, m in found]


async def test_device_imei_keeps_its_rows_and_ids_without_the_key_index(database):
    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        await DeviceImei.create(application_id=1, row_number=1, imei="350000110000011")
        await DeviceImei.create(application_id=1, row_number=2, imei="350000110000029")
        before = await rows()
        assert (KEY in await index_names("device_imei")) is ON_POSTGRES
        assert IMEI_INDEXES <= await index_names("device_imei")
    finally:
        await close_db()

    await migrate_to(database)
    await init_db(database)
    try:
        assert await index_names("device_imei") == IMEI_INDEXES
        assert await rows() == before
        # New rows still get ids of their own, after the old ones, from the sequence.
        added = await DeviceImei.create(application_id=2, row_number=1, imei="350000110000011")
        assert added.id > before[-1][0]
        assert await DeviceImei.filter(imei="350000110000011").count() == 2
        after = await rows()
    finally:
        await close_db()

    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        assert (KEY in await index_names("device_imei")) is ON_POSTGRES
        assert await rows() == after
    finally:
        await close_db()
    await migrate_to(database)
