"""Migration 0019 on a database analysed before it: the stored outcomes (device.passed) go,
and the derived ones (analysed list, failure rows) say the same; going back restores them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.db import close_db, init_db
from models import clock
from models.applications import Application
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import bulk
from resolvers.applications.results import groups_of, iter_devices
from resolvers.workflow.common import DeviceGroupCount, passing_groups
from tests.support.migrations import create_then, index_names, migrate_to, own_database

BEFORE = "models.0016_device_list_indexes"
OUTCOME_INDEX = "idx_device_applica_cbc1f0"  # (application_id, passed)

# Per application: (passed_device_count, failed_device_count), and per row its stored
# outcome and failure codes, as the analysis (and the payment race, on the third) left them.
OLD = {
    "analysed": (
        (2, 1),
        {2: (True, []), 3: (False, ["TAC_NOT_FOUND", "BLACKLISTED"]), 4: (True, [])},
    ),
    "not analysed": ((None, None), {2: (None, []), 3: (None, [])}),
    "paid": ((1, 1), {2: (False, ["ALREADY_REGISTERED"]), 3: (True, [])}),
}


@pytest.fixture
async def database(tmp_path, settings) -> AsyncIterator[str]:
    async for url in own_database(tmp_path, "m0019"):
        yield url


async def stored_outcomes() -> list[tuple[int, int, bool | None]]:
    rows = await bulk.select(
        "SELECT application_id, row_number, passed FROM device ORDER BY application_id, row_number"
    )
    return [(int(a), int(r), None if p is None else bool(p)) for a, r, p in rows]


async def test_outcomes_stored_before_0019_are_derived_alike_after_it(database):
    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        ids: dict[str, int] = {}
        for name, ((passed, failed), devices) in OLD.items():
            application_id = await create_then(
                Application,
                firm_id=1,
                kind=ApplicationKind.IMPORT,
                status=ApplicationStatus.UNDER_REVIEW
                if passed is not None
                else ApplicationStatus.DRAFT,
                created_by="x",
                device_count=len(devices),
                passed_device_count=passed,
                failed_device_count=failed,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            ids[name] = application_id
            await bulk.insert_rows(
                "device",
                ("application_id", "row_number", "brand", "model_code", "imei1", "passed"),
                [
                    (
                        application_id,
                        row,
                        "APPLE",
                        "A2403",
                        f"35000011{application_id:03d}{row:04d}",
                        ok,
                    )
                    for row, (ok, _) in devices.items()
                ],
            )
            await bulk.insert_rows(
                "device_failure",
                ("application_id", "row_number", "code"),
                [
                    (application_id, row, code)
                    for row, (_, codes) in devices.items()
                    for code in codes
                ],
            )
        before = await stored_outcomes()
        assert OUTCOME_INDEX in await index_names("device")
    finally:
        await close_db()

    await migrate_to(database)
    await init_db(database)
    try:
        assert OUTCOME_INDEX not in await index_names("device")
        for name, (_, devices) in OLD.items():
            application = await Application.get(id=ids[name])
            derived = {
                d.row_number: (d.passed, [c.value for c in d.codes])
                async for d in iter_devices(application)
            }
            assert derived == devices, name
        analysed = await Application.get(id=ids["analysed"])
        [group] = await groups_of(analysed)
        assert (group.device_count, group.passed_count, group.failed_count) == (3, 2, 1)
        assert await passing_groups(ids["analysed"]) == [DeviceGroupCount("APPLE", "A2403", 2, 2)]
        assert await passing_groups(ids["not analysed"]) == []
        assert await passing_groups(ids["paid"]) == [DeviceGroupCount("APPLE", "A2403", 1, 1)]
    finally:
        await close_db()

    # Reversible: back before 0019 the column is filled again from the failure rows.
    await migrate_to(database, BEFORE)
    await init_db(database)
    try:
        assert await stored_outcomes() == before
        assert OUTCOME_INDEX in await index_names("device")
    finally:
        await close_db()
    await migrate_to(database)
