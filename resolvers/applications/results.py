"""Reading the analysis: devices page by page with their reasons, and brand/model groups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery

from models.applications import Application, Device, DeviceFailure
from models.checks import RED_GROUP_CODES, CheckCode
from models.imei import TAC_LENGTH
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.applications.readings import parse_notes, tac_readable
from resolvers.applications.reasons import FailedDevice, Reason, describe
from resolvers.pagination import check_page_size, decode_cursor, encode_cursor
from resolvers.tac.registry import models_for_tacs

# Reasons whose words name the registry's model of a TAC.
_NAMING_MODELS = frozenset(
    {CheckCode.MODEL_MISMATCH, CheckCode.IMEI_MODEL_CONFLICT, CheckCode.SIM_COUNT_MISMATCH}
)


@dataclass(frozen=True)
class DeviceResult:
    row_number: int
    brand: str
    model: str
    imeis: tuple[str, ...]
    passed: bool | None
    reasons: list[Reason]
    registry_brand: str | None
    registry_model: str | None

    @property
    def codes(self) -> list[CheckCode]:
        return [reason.code for reason in self.reasons]


@dataclass(frozen=True)
class DevicePage:
    items: list[DeviceResult]
    end_cursor: str | None
    has_next_page: bool
    total_count: int


@dataclass
class DeviceGroup:
    """A declared brand/model and its devices. Before the analysis (``analysed`` false)
    passing and failing count the TAC and model match, known from the upload; after it, the
    analysis' outcome. Red: none of its devices can pass the TAC and model match (guide §3)."""

    brand: str
    model: str
    device_count: int = 0
    passed_count: int = 0
    failed_count: int = 0
    # Devices that can pass the TAC and model match.
    matching_count: int = 0
    analysed: bool = False
    reasons: dict[CheckCode, int] = field(default_factory=dict)

    @property
    def red(self) -> bool:
        return self.device_count > 0 and self.matching_count == 0


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
    failures: dict[int, list[DeviceFailure]] = {}
    if rows:
        for failure in await DeviceFailure.filter(
            application_id=application_id, row_number__in=rows
        ).order_by("id"):
            failures.setdefault(failure.row_number, []).append(failure)
    failed = [d for d in devices if d.row_number in failures]
    repeated = await _rows_of_repeated(application_id, failed, failures)
    tacs = {
        imei[:TAC_LENGTH]
        for d in failed
        if any(f.code in _NAMING_MODELS for f in failures[d.row_number])
        for imei in _imeis(d)
        if tac_readable(imei)
    }
    models = await models_for_tacs(tacs) if tacs else {}
    results = []
    for d in devices:
        imeis = _imeis(d)
        reasons: list[Reason] = []
        if d.row_number in failures:
            device = FailedDevice(
                d.brand,
                d.model_code,
                imeis,
                parse_notes(d.imei_notes),
                {imei: [r for r in repeated.get(imei, []) if r != d.row_number] for imei in imeis},
            )
            reasons = [
                describe(
                    CheckCode(f.code),
                    _at(imeis, f.imei_positions),
                    device,
                    models,
                )
                for f in failures[d.row_number]
            ]
        results.append(
            DeviceResult(
                row_number=d.row_number,
                brand=d.brand,
                model=d.model_code,
                imeis=imeis,
                passed=d.passed,
                reasons=reasons,
                registry_brand=d.tac_brand,
                registry_model=d.tac_model,
            )
        )
    return results


def _at(imeis: tuple[str, ...], positions: str | None) -> tuple[str, ...]:
    """The IMEIs at the stored positions ("1,3")."""
    if not positions:
        return ()
    return tuple(imeis[int(n) - 1] for n in positions.split(",") if 0 < int(n) <= len(imeis))


def _imeis(device: Device) -> tuple[str, ...]:
    return tuple(i for i in (device.imei1, device.imei2, device.imei3, device.imei4) if i)


async def _rows_of_repeated(
    application_id: int, devices: list[Device], failures: dict[int, list[DeviceFailure]]
) -> dict[str, list[int]]:
    """IMEI → the rows of the list holding it, for the repeated IMEIs of these devices."""
    repeated = {
        imei
        for d in devices
        for f in failures[d.row_number]
        if f.code == CheckCode.DUPLICATE_IN_LIST
        for imei in _at(_imeis(d), f.imei_positions)
    }
    rows: dict[str, list[int]] = {}
    async for imei, row in bulk.select_in(
        "SELECT imei, row_number FROM device_imei "
        "WHERE application_id = {p1} AND imei IN ({in_}) ORDER BY row_number",
        repeated,
        extra=(application_id,),
    ):
        rows.setdefault(str(imei), []).append(int(row))
    return rows


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
    application = await get_application(actor, application_id)
    return await groups_of(application)


async def groups_of(application: Application) -> list[DeviceGroup]:
    """The list's brand/model groups with their counts, before or after the analysis."""
    conn = bulk.current()
    p = bulk.placeholders(conn, 1)
    # A device the upload did not match against the registry (tac_match null: test
    # devices, lists uploaded before groups were coloured at upload) counts as matching.
    _, counts = await conn.execute_query(
        "SELECT brand, model_code, COUNT(*), "
        "SUM(CASE WHEN passed THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN passed IS NOT NULL AND NOT passed THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN tac_match IS NULL OR tac_match THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN passed IS NULL THEN 0 ELSE 1 END) "
        f"FROM device WHERE application_id = {p} GROUP BY brand, model_code "
        "ORDER BY brand, model_code",
        [application.id],
    )
    groups: dict[tuple[str, str], DeviceGroup] = {}
    for brand, model, count, passed, failed, matching, analysed in counts:
        group = DeviceGroup(brand=brand, model=model, device_count=int(count))
        if int(analysed or 0):
            group.analysed = True
            group.passed_count, group.failed_count = int(passed or 0), int(failed or 0)
        else:
            group.passed_count = int(matching or 0)
            group.failed_count = group.device_count - group.passed_count
        group.matching_count = int(matching or 0)
        groups[(brand, model)] = group
    _, reasons = await conn.execute_query(
        "SELECT d.brand, d.model_code, f.code, COUNT(*) FROM device_failure f "
        "JOIN device d ON d.application_id = f.application_id AND d.row_number = f.row_number "
        f"WHERE f.application_id = {p} GROUP BY d.brand, d.model_code, f.code",
        [application.id],
    )
    for brand, model, code, count in reasons:
        groups[(brand, model)].reasons[CheckCode(code)] = int(count)
    if any(group.analysed for group in groups.values()):
        await _analysed_matching(conn, application.id, groups)
    return list(groups.values())


async def _analysed_matching(
    conn: BaseDBAsyncClient, application_id: int, groups: dict[tuple[str, str], DeviceGroup]
) -> None:
    """After the analysis: the devices with no reason of a red group are the matching ones."""
    p = bulk.placeholders(conn, 1)
    codes = ", ".join(f"'{code.value}'" for code in sorted(RED_GROUP_CODES))
    _, rows = await conn.execute_query(
        "SELECT d.brand, d.model_code, COUNT(DISTINCT f.row_number) FROM device_failure f "
        "JOIN device d ON d.application_id = f.application_id AND d.row_number = f.row_number "
        f"WHERE f.application_id = {p} AND f.code IN ({codes}) GROUP BY d.brand, d.model_code",
        [application_id],
    )
    for group in groups.values():
        group.matching_count = group.device_count
    for brand, model, unmatched in rows:
        groups[(brand, model)].matching_count -= int(unmatched)
