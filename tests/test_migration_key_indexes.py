"""Migrations 0020, 0021 and 0024: on PostgreSQL device_imei, device and device_failure lose
their primary keys' indexes (never used, maintained for every listed IMEI, every device row
and every reason); their rows, their other indexes and their ids stay; going back restores
each key. On SQLite the id is the rowid, and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise.models import Model

from gateway.db import close_db, init_db
from models.applications import Device, DeviceFailure, DeviceImei
from resolvers import bulk
from tests.conftest import ON_POSTGRES
from tests.support.migrations import index_names, migrate_to, own_database


@dataclass(frozen=True)
class KeyCase:
    before: str  # the migration before the one that drops the key
    table: str
    model: type[Model]
    key: str
    kept: frozenset[str]  # the table's other indexes, on both backends
    columns: str  # the columns compared before and after, id first

    def fields(self, application_id: int, row_number: int) -> dict[str, Any]:
        imei = "350000110000011" if row_number == 1 else "350000110000029"
        if self.model is DeviceImei:
            return {"application_id": application_id, "row_number": row_number, "imei": imei}
        if self.model is DeviceFailure:
            return {
                "application_id": application_id,
                "row_number": row_number,
                "code": "INVALID_IMEI",
                "imei_positions": "1",
            }
        return {
            "application_id": application_id,
            "row_number": row_number,
            "brand": "APPLE",
            "model_code": "A2403",
            "imei1": imei,
        }


CASES = [
    KeyCase(
        "models.0019_derived_device_outcome",
        "device_imei",
        DeviceImei,
        "device_imei_pkey",
        frozenset({"idx_device_imei_applica_0fd19a", "idx_device_imei_imei_104916"}),
        "id, application_id, row_number, imei",
    ),
    KeyCase(
        "models.0020_device_imei_without_key_index",
        "device",
        Device,
        "device_pkey",
        # Its (application, brand, model) index goes on PostgreSQL too, in 0023
        # (tests/test_migration_device_groups.py).
        frozenset(),
        "id, application_id, row_number, brand, model_code, imei1",
    ),
    KeyCase(
        "models.0023_device_groups_unindexed_on_postgres",
        "device_failure",
        DeviceFailure,
        "device_failure_pkey",
        frozenset({"idx_device_fail_applica_82ac5d", "idx_device_fail_applica_f8f63e"}),
        "id, application_id, row_number, code, imei_positions",
    ),
]


@pytest.fixture
async def database(tmp_path, settings) -> AsyncIterator[str]:
    async for url in own_database(tmp_path, "mkeys"):
        yield url


async def rows(case: KeyCase) -> list[tuple[Any, ...]]:
    return [
        tuple(r) for r in await bulk.select(f"SELECT {case.columns} FROM {case.table} ORDER BY id")
    ]


async def key_indexed(case: KeyCase) -> bool:
    names = await index_names(case.table)
    assert case.kept <= names
    return case.key in names


@pytest.mark.parametrize("case", CASES, ids=[c.table for c in CASES])
async def test_the_table_keeps_its_rows_and_ids_without_the_key_index(database, case):
    await migrate_to(database, case.before)
    await init_db(database)
    try:
        # In SQL: the model is the newest migration's (device_imei has gained a column).
        for row_number in (1, 2):
            staged = case.fields(1, row_number)
            await bulk.insert_rows(case.table, tuple(staged), [tuple(staged.values())])
        before = await rows(case)
        assert await key_indexed(case) is ON_POSTGRES
    finally:
        await close_db()

    await migrate_to(database)
    await init_db(database)
    try:
        assert not await key_indexed(case)
        assert await rows(case) == before
        # New rows still get ids of their own, after the old ones, from the sequence.
        added = await case.model.create(**case.fields(2, 1))
        assert added.id > before[-1][0]
        assert await case.model.filter(application_id=2).count() == 1
        after = await rows(case)
    finally:
        await close_db()

    await migrate_to(database, case.before)
    await init_db(database)
    try:
        assert await key_indexed(case) is ON_POSTGRES
        assert await rows(case) == after
    finally:
        await close_db()
    await migrate_to(database)
