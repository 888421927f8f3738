"""Reading the analysis: devices page by page with their reasons, and brand/model groups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tortoise.expressions import Subquery

from models.applications import Device, DeviceFailure
from models.checks import RED_GROUP_CODES, CheckCode
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.pagination import check_page_size, decode_cursor, encode_cursor


@dataclass(frozen=True)
class DeviceResult:
    row_number: int
    brand: str
    model: str
    imeis: tuple[str, ...]
    passed: bool | None
    reasons: list[CheckCode]
    registry_brand: str | None
    registry_model: str | None


@dataclass(frozen=True)
class DevicePage:
    items: list[DeviceResult]
    end_cursor: str | None
    has_next_page: bool
    total_count: int


@dataclass
class DeviceGroup:
    brand: str
    model: str
    device_count: int = 0
    passed_count: int = 0
    failed_count: int = 0
    reasons: dict[CheckCode, int] = field(default_factory=dict)

    @property
    def red(self) -> bool:
        return any(code in RED_GROUP_CODES for code in self.reasons)


def _filtered(application_id: int, passed: bool | None, reason: CheckCode | None):  # type: ignore[no-untyped-def]
    query = Device.filter(application_id=application_id)
    if passed is not None:
        query = query.filter(passed=passed)
    if reason is not None:
        query = query.filter(
            row_number__in=Subquery(
                DeviceFailure.filter(application_id=application_id, code=reason.value).values(
                    "row_number"
                )
            )
        )
    return query


async def _with_reasons(application_id: int, devices: list[Device]) -> list[DeviceResult]:
    rows = [d.row_number for d in devices]
    reasons: dict[int, list[CheckCode]] = {}
    if rows:
        failures = await DeviceFailure.filter(
            application_id=application_id, row_number__in=rows
        ).order_by("id")
        for failure in failures:
            reasons.setdefault(failure.row_number, []).append(CheckCode(failure.code))
    return [
        DeviceResult(
            row_number=d.row_number,
            brand=d.brand,
            model=d.model_code,
            imeis=tuple(i for i in (d.imei1, d.imei2, d.imei3, d.imei4) if i),
            passed=d.passed,
            reasons=reasons.get(d.row_number, []),
            registry_brand=d.tac_brand,
            registry_model=d.tac_model,
        )
        for d in devices
    ]


async def list_devices(
    actor: Actor,
    application_id: int,
    first: int = 100,
    after: str | None = None,
    passed: bool | None = None,
    reason: CheckCode | None = None,
) -> DevicePage:
    """Devices in list order, filtered by outcome and reason; keyset-paged by row number."""
    await get_application(actor, application_id)
    check_page_size(first)
    query = _filtered(application_id, passed, reason)
    total = await query.count()
    if after is not None:
        query = query.filter(row_number__gt=decode_cursor(after))
    devices = await query.order_by("row_number").limit(first + 1)
    has_next = len(devices) > first
    devices = devices[:first]
    return DevicePage(
        items=await _with_reasons(application_id, devices),
        end_cursor=encode_cursor(devices[-1].row_number) if devices else None,
        has_next_page=has_next,
        total_count=total,
    )


async def iter_devices(
    application_id: int, passed: bool | None = None, reason: CheckCode | None = None
) -> AsyncIterator[DeviceResult]:
    """Every matching device, fetched in batches (exports of a million rows)."""
    last = 0
    while True:
        devices = (
            await _filtered(application_id, passed, reason)
            .filter(row_number__gt=last)
            .order_by("row_number")
            .limit(5000)
        )
        if not devices:
            return
        for result in await _with_reasons(application_id, devices):
            yield result
        last = devices[-1].row_number


async def device_groups(actor: Actor, application_id: int) -> list[DeviceGroup]:
    await get_application(actor, application_id)
    conn = bulk.current()
    p = bulk.placeholders(conn, 1)
    _, counts = await conn.execute_query(
        "SELECT brand, model_code, COUNT(*), "
        "SUM(CASE WHEN passed THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN passed IS NOT NULL AND NOT passed THEN 1 ELSE 0 END) "
        f"FROM device WHERE application_id = {p} GROUP BY brand, model_code "
        "ORDER BY brand, model_code",
        [application_id],
    )
    groups = {
        (r[0], r[1]): DeviceGroup(
            brand=r[0],
            model=r[1],
            device_count=int(r[2]),
            passed_count=int(r[3] or 0),
            failed_count=int(r[4] or 0),
        )
        for r in counts
    }
    _, reasons = await conn.execute_query(
        "SELECT d.brand, d.model_code, f.code, COUNT(*) FROM device_failure f "
        "JOIN device d ON d.application_id = f.application_id AND d.row_number = f.row_number "
        f"WHERE f.application_id = {p} GROUP BY d.brand, d.model_code, f.code",
        [application_id],
    )
    for brand, model, code, count in reasons:
        groups[(brand, model)].reasons[CheckCode(code)] = int(count)
    return list(groups.values())
