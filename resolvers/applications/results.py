"""Reading the analysis: devices page by page with their reasons, and brand/model groups."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient

from models.applications import Application, DeviceFailure
from models.checks import RED_GROUP_CODES, CheckCode
from models.imei import TAC_LENGTH
from models.tac import TacModel
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.applications import outcome
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


@dataclass(frozen=True, slots=True)
class _Listed:
    """A device row as the result views read it."""

    row_number: int
    brand: str
    model_code: str
    imei1: str
    imei2: str | None
    imei3: str | None
    imei4: str | None
    imei_notes: str | None
    tac_brand: str | None
    tac_model: str | None


_COLUMNS = (
    "d.row_number, d.brand, d.model_code, d.imei1, d.imei2, d.imei3, d.imei4, "
    "d.imei_notes, d.tac_brand, d.tac_model"
)


def _filtered(
    application: Application, passed: bool | None, reason: CheckCode | None
) -> tuple[str, list[object]] | None:
    """The WHERE clause (written with `?`, the device as `d`) of the devices matching the
    filters, or None when none can: an outcome or a reason asked of a list not analysed (its
    failure rows, if any, are an earlier run's)."""
    if (passed is not None or reason is not None) and not outcome.analysed(application):
        return None
    where = "d.application_id = ?"
    params: list[object] = [application.id]
    if passed is not None:
        # A correlated (NOT) EXISTS on device_failure's (application_id, row_number) index:
        # a page of passing devices probes only the rows it reads.
        where += f" AND {'NOT ' if passed else ''}{outcome.failing_sql('d')}"
    if reason is not None:
        where += (
            " AND d.row_number IN (SELECT f.row_number FROM device_failure f "
            "WHERE f.application_id = ? AND f.code = ?)"
        )
        params += [application.id, reason.value]
    return where, params


async def _devices(where: str, params: list[object], after: int, limit: int) -> list[_Listed]:
    rows = await bulk.select(
        f"SELECT {_COLUMNS} FROM device d WHERE {where} AND d.row_number > ? "
        f"ORDER BY d.row_number LIMIT {int(limit)}",
        [*params, after],
    )
    return [_Listed(*row) for row in rows]


async def _with_reasons(application: Application, devices: list[_Listed]) -> list[DeviceResult]:
    application_id, analysed = application.id, outcome.analysed(application)
    rows = [d.row_number for d in devices]
    failures: dict[int, list[DeviceFailure]] = {}
    if rows and analysed:
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
        identity = _registry_identity(d, imeis, failures.get(d.row_number, ()), models)
        results.append(
            DeviceResult(
                row_number=d.row_number,
                brand=d.brand,
                model=d.model_code,
                imeis=imeis,
                passed=(d.row_number not in failures) if analysed else None,
                reasons=reasons,
                registry_brand=identity[0],
                registry_model=identity[1],
            )
        )
    return results


def _registry_identity(
    device: _Listed,
    imeis: tuple[str, ...],
    failures: Iterable[DeviceFailure],
    models: dict[str, TacModel],
) -> tuple[str | None, str | None]:
    """What the registry says a device whose model mismatches is: the model of the first
    IMEI the mismatch blames (the analysis' `ModelMismatch` reads the same)."""
    for failure in failures:
        if failure.code != CheckCode.MODEL_MISMATCH:
            continue
        if failure.imei_positions is None:  # stored by an analysis before issue 18
            return device.tac_brand, device.tac_model
        for imei in _at(imeis, failure.imei_positions):
            model = models.get(imei[:TAC_LENGTH]) if tac_readable(imei) else None
            if model is not None:
                return model.brand, model.model_code
    return None, None


def _at(imeis: tuple[str, ...], positions: str | None) -> tuple[str, ...]:
    """The IMEIs at the stored positions ("1,3")."""
    if not positions:
        return ()
    return tuple(imeis[int(n) - 1] for n in positions.split(",") if 0 < int(n) <= len(imeis))


def _imeis(device: _Listed) -> tuple[str, ...]:
    return tuple(i for i in (device.imei1, device.imei2, device.imei3, device.imei4) if i)


async def _rows_of_repeated(
    application_id: int, devices: list[_Listed], failures: dict[int, list[DeviceFailure]]
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
    application = await get_application(actor, application_id)
    check_page_size(first)
    start = decode_cursor(after) if after is not None else 0
    filtered = _filtered(application, passed, reason)
    if filtered is None:
        return DevicePage(items=[], end_cursor=None, has_next_page=False, total_count=0)
    where, params = filtered
    [(total,)] = await bulk.select(f"SELECT COUNT(*) FROM device d WHERE {where}", params)
    devices = await _devices(where, params, start, first + 1)
    has_next = len(devices) > first
    devices = devices[:first]
    return DevicePage(
        items=await _with_reasons(application, devices),
        end_cursor=encode_cursor(devices[-1].row_number) if devices else None,
        has_next_page=has_next,
        total_count=int(total),
    )


async def iter_devices(
    application: Application, passed: bool | None = None, reason: CheckCode | None = None
) -> AsyncIterator[DeviceResult]:
    """Every matching device, fetched in batches (exports of a million rows)."""
    filtered = _filtered(application, passed, reason)
    if filtered is None:
        return
    where, params = filtered
    last = 0
    while True:
        devices = await _devices(where, params, last, 5000)
        if not devices:
            return
        for result in await _with_reasons(application, devices):
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
        "SUM(CASE WHEN tac_match IS NULL OR tac_match THEN 1 ELSE 0 END) "
        f"FROM device WHERE application_id = {p} GROUP BY brand, model_code "
        "ORDER BY brand, model_code",
        [application.id],
    )
    groups: dict[tuple[str, str], DeviceGroup] = {}
    for brand, model, count, matching in counts:
        group = DeviceGroup(brand=brand, model=model, device_count=int(count))
        group.matching_count = int(matching or 0)
        group.passed_count = group.matching_count
        group.failed_count = group.device_count - group.passed_count
        groups[(brand, model)] = group
    if not groups or not outcome.analysed(application):
        return list(groups.values())
    _, reasons = await conn.execute_query(
        "SELECT d.brand, d.model_code, f.code, COUNT(*) FROM device_failure f "
        "JOIN device d ON d.application_id = f.application_id AND d.row_number = f.row_number "
        f"WHERE f.application_id = {p} GROUP BY d.brand, d.model_code, f.code",
        [application.id],
    )
    for brand, model, code, count in reasons:
        groups[(brand, model)].reasons[CheckCode(code)] = int(count)
    await _analysed_counts(conn, application.id, groups)
    return list(groups.values())


async def _analysed_counts(
    conn: BaseDBAsyncClient, application_id: int, groups: dict[tuple[str, str], DeviceGroup]
) -> None:
    """After the analysis, from the failure rows (as many as the failing devices, not the
    list): a group's failing devices, and its matching ones, those with no reason of a red
    group."""
    p = bulk.placeholders(conn, 1)
    codes = ", ".join(f"'{code.value}'" for code in sorted(RED_GROUP_CODES))
    _, rows = await conn.execute_query(
        "SELECT d.brand, d.model_code, COUNT(DISTINCT f.row_number), "
        f"COUNT(DISTINCT CASE WHEN f.code IN ({codes}) THEN f.row_number END) "
        "FROM device_failure f "
        "JOIN device d ON d.application_id = f.application_id AND d.row_number = f.row_number "
        f"WHERE f.application_id = {p} GROUP BY d.brand, d.model_code",
        [application_id],
    )
    for group in groups.values():
        group.analysed = True
        group.matching_count = group.device_count
        group.passed_count, group.failed_count = group.device_count, 0
    for brand, model, failed, unmatched in rows:
        group = groups[(brand, model)]
        group.failed_count = int(failed)
        group.passed_count = group.device_count - group.failed_count
        group.matching_count -= int(unmatched or 0)
