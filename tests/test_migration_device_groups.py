"""Migration 0023: on PostgreSQL the device table loses its (application, brand, model)
index, which no query needed; the list's groups and the declaration comparison read the
same without it, and going back restores it. SQLite keeps the index."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.db import close_db, init_db
from models import clock
from models.applications import Application, Device
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import bulk
from resolvers.applications.declarations import find_differences
from resolvers.applications.results import groups_of
from tests.conftest import ON_POSTGRES
from tests.support.migrations import create_then, index_names, migrate_to, own_database

BEFORE = "models.0022_device_imei_repeated"
INDEX = "idx_device_applica_6f765e"
LISTED = [("APPLE", "A2403")] * 3 + [("SAMSUNG", "SM-G9359")] * 2 + [("NOKIA", "9999")]


@pytest.fixture
async def database(tmp_path, settings) -> AsyncIterator[str]:
    async for url in own_database(tmp_path, "m0023"):
        yield url


async def seen(application_id: int) -> tuple[object, ...]:
    # Not read through the ORM: before the migration the table lacks later columns.
    groups = [
        (g.brand, g.model, g.device_count) for g in await groups_of(Application(id=application_id))
    ]
    differences = await find_differences(bulk.current(), application_id)
    return groups, [(d.brand, d.model, d.declared, d.listed) for d in differences]


async def test_postgresql_drops_the_device_groups_index_and_the_groups_read_alike(database):
    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        application_id = await create_then(
            Application,
            firm_id=1,
            kind=ApplicationKind.IMPORT,
            status=ApplicationStatus.DRAFT,
            created_by="x",
            device_count=len(LISTED),
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        for row_number, (brand, model) in enumerate(LISTED, start=2):
            await Device.create(
                application_id=application_id,
                row_number=row_number,
                brand=brand,
                model_code=model,
                imei1=f"35000011{row_number:07d}",
            )
        before = await seen(application_id)
        assert before[0] == [
            ("APPLE", "A2403", 3),
            ("NOKIA", "9999", 1),
            ("SAMSUNG", "SM-G9359", 2),
        ]
        assert INDEX in await index_names("device")
    finally:
        await close_db()

    await migrate_to(database)
    await init_db(database)
    try:
        assert (INDEX in await index_names("device")) is not ON_POSTGRES
        assert await seen(application_id) == before
    finally:
        await close_db()

    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        assert INDEX in await index_names("device")
        assert await seen(application_id) == before
    finally:
        await close_db()
    await migrate_to(database)
