"""Migration 0022: lists staged before it get their repeated IMEIs flagged (repeated in the
same list, in one device or in several; an IMEI in two lists is not repeated), which the
analysis then reads from their own index; going back drops the flag and its index, and
keeps the rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.db import close_db, init_db
from resolvers import bulk
from resolvers.applications.checks import AnalysisContext
from tests.support.migrations import index_names, migrate_to, own_database

BEFORE = "models.0021_device_without_key_index"
INDEX = "device_imei_repeated"
A, B, C = "350000110000011", "350000110000029", "350000110000037"
# (application, row, IMEI): A in rows 1 and 3 of list 1, C twice in its row 4, B once;
# list 2 holds A and B once each.
STAGED = [(1, 1, A), (1, 2, B), (1, 3, A), (1, 4, C), (1, 4, C), (2, 1, A), (2, 2, B)]


@pytest.fixture
async def database(tmp_path, settings) -> AsyncIterator[str]:
    async for url in own_database(tmp_path, "m0022"):
        yield url


async def test_lists_staged_before_0022_have_their_repeated_imeis_flagged(database):
    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        await bulk.insert_rows("device_imei", ("application_id", "row_number", "imei"), STAGED)
    finally:
        await close_db()

    await migrate_to(database)
    await init_db(database)
    try:
        assert INDEX in await index_names("device_imei")
        flagged = await bulk.select(
            "SELECT application_id, row_number, imei FROM device_imei WHERE repeated "
            "ORDER BY application_id, row_number"
        )
        assert [tuple(r) for r in flagged] == [(1, 1, A), (1, 3, A), (1, 4, C), (1, 4, C)]
        # What the analysis reads of list 1, whole and by windows of rows (after, up to].
        whole = AnalysisContext(application_id=1, devices=[], staged=True)
        assert sorted(await whole._repeated_staged()) == [(1, A), (3, A), (4, C), (4, C)]
        window = AnalysisContext(application_id=1, devices=[], staged=True, window=(1, 3))
        assert await window._repeated_staged() == [(3, A)]
        other = AnalysisContext(application_id=2, devices=[], staged=True)
        assert await other._repeated_staged() == []
    finally:
        await close_db()

    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        assert INDEX not in await index_names("device_imei")
        rows = await bulk.select(
            "SELECT application_id, row_number, imei FROM device_imei "
            "ORDER BY application_id, row_number, imei"
        )
        assert [tuple(r) for r in rows] == sorted(STAGED)
        with pytest.raises(Exception, match="repeated"):
            await bulk.select("SELECT repeated FROM device_imei")
    finally:
        await close_db()
    await migrate_to(database)
