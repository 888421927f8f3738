"""Replacing a draft's device list from an uploaded file, in one transaction.

The file is stored first (content-addressed), then read in a worker thread or, for a big
list, a process of its own (`list_reader`: the reader is CPU-bound) and handed over in
batches, each settled against the registry (`readings`) and inserted as it arrives inside
one transaction: memory stays flat for a million rows, and a file with any structural
problem leaves the previous list untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import DEVICE_IMEI_COLUMNS, Application, imei_columns
from models.files import FileKind, StoredFile
from models.workflow import EDITABLE, ApplicationKind, Channel
from resolvers import audit, bulk, files, interpreter
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.applications.drafts import require_editor
from resolvers.applications.list_reader import Parsed, ReadAhead, read_rows
from resolvers.applications.readings import RegistryReadings, StagedRow, notes_json
from resolvers.applications.results import DeviceGroup
from resolvers.device_files import (
    DEFAULT_LIMITS,
    DeviceFileError,
    DeviceFileLimits,
    FileIssue,
    IssueCode,
)
from resolvers.errors import Bilingual, DomainError, DomainErrors, ErrorCode, invalid_state
from resolvers.settings import get_settings
from resolvers.workflow.paper import ek2_header_differences

log = logging.getLogger("mcks.upload")

MAX_REPORTED_ISSUES = 200

#: The device columns a row fills, by its shape: (IMEIs, match looked at, notes).
_Shape = tuple[int, bool, bool]
_ShapedRows = dict[tuple[str, ...], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class UploadResult:
    application: Application
    stored_file: StoredFile
    device_count: int
    imei_count: int
    warnings: list[FileIssue]
    # The brand/model groups, coloured as the portal's popup shows them after the upload.
    groups: list[DeviceGroup]


def issue_error(issue: FileIssue) -> DomainError:
    """A row problem as a payload error: where (row, column and header) and why."""
    if issue.row is None:
        where_tr = where_en = ""
        field = "file"
    elif issue.column is None:
        where_tr, where_en = f"satır {issue.row}: ", f"line {issue.row}: "
        field = f"file[row={issue.row}]"
    else:
        header = f" ({issue.header})" if issue.header else ""
        where_tr = f"satır {issue.row}, sütun {issue.column}{header}: "
        where_en = f"row {issue.row}, column {issue.column}{header}: "
        field = f"file[row={issue.row}][column={issue.column}]"
    return DomainError(
        ErrorCode.INVALID_INPUT,
        field=field,
        reason=Bilingual(where_tr + issue.message_tr, where_en + issue.message_en),
    )


def file_error(error: DeviceFileError) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_INPUT, field="file", reason=Bilingual(error.message_tr, error.message_en)
    )


def _limits() -> DeviceFileLimits:
    settings = get_settings()
    return replace(
        DEFAULT_LIMITS,
        max_file_bytes=settings.max_device_file_bytes,
        max_device_rows=settings.max_device_rows,
        max_uncompressed_bytes=settings.max_device_file_unpacked_bytes,
    )


@files.atomic_uploads
@interpreter.with_collector_paused  # a million rows' tuples: see resolvers.interpreter
async def upload_device_list(
    actor: Actor,
    application_id: int,
    content: bytes | AsyncIterator[bytes],
    filename: str,
) -> UploadResult:
    """A refused list (a row problem, a structural one, a draft no longer editable) leaves
    neither a file row nor its bytes: the row is written with the devices, and the bytes
    are claimed until then (`files.atomic_uploads`)."""
    application = await get_application(actor, application_id)
    require_editor(actor, application)
    if application.status not in EDITABLE:
        raise invalid_state(
            "cihaz listesi yalnızca taslak başvurularda değiştirilebilir",
            "the device list can only be changed on a draft",
        )
    started = time.perf_counter()
    blob = await files.write_blob(content, max_bytes=get_settings().max_device_file_bytes)
    stored_at = time.perf_counter()
    path = blob.claim  # the same bytes, held for us whatever happens to the blob's path
    device_count = imei_count = 0
    widest = 0  # the most IMEIs a device of the list has (imei1 is read whatever it is)
    # Reading starts now: the file is parsed while the previous list is deleted.
    reading = ReadAhead(read_rows(path, blob.size, filename, _limits()))
    try:
        async with in_transaction() as conn:
            locked = await get_application(actor, application_id, for_update=True)
            if locked.status not in EDITABLE:
                raise invalid_state(
                    "başvuru artık taslak değil", "the application is no longer a draft"
                )
            p = bulk.placeholders(conn, 1)
            for table in ("device_failure", "device_imei", "device"):
                await conn.execute_query(
                    f"DELETE FROM {table} WHERE application_id = {p}", [application_id]
                )
            parsed: Parsed | None = None
            readings = RegistryReadings(match_tacs=locked.kind != ApplicationKind.TEST)
            # A batch is inserted while the next one is settled: the database driver works
            # in a thread of its own, outside the interpreter's lock, and this loop would
            # otherwise wait for it half of the time.
            inserting: asyncio.Task[None] | None = None
            first_rows_at: float | None = None
            try:
                async for item in reading:
                    if first_rows_at is None:
                        first_rows_at = time.perf_counter()
                    if isinstance(item, Parsed):
                        parsed = item
                        continue
                    rows, matches = await readings.settle(item)
                    # Each step holds the event loop ~10 ms a batch: requests come in
                    # between (the operators' p99 during an upload).
                    await asyncio.sleep(0)
                    shaped = _device_rows(application_id, rows, matches, conn)
                    if inserting is not None:
                        await inserting
                    inserting = asyncio.create_task(_insert_devices(shaped, conn))
                    device_count += len(rows)
                    counts = [len(r.imeis) for r in rows]
                    imei_count += sum(counts)
                    widest = max(widest, max(counts, default=0))
                if inserting is not None:
                    await inserting
            finally:
                if inserting is not None and not inserting.done():
                    inserting.cancel()
                    with contextlib.suppress(BaseException):
                        await inserting
            assert parsed is not None
            rows_at = time.perf_counter()
            first_rows_at = first_rows_at or rows_at
            await _index_imeis(conn, application_id, widest)
            staged_at = time.perf_counter()
            if parsed.issue_count:
                errors = [issue_error(i) for i in parsed.issues[:MAX_REPORTED_ISSUES]]
                if parsed.issue_count > len(errors):
                    errors.append(
                        DomainError(
                            ErrorCode.INVALID_INPUT,
                            field="file",
                            reason=Bilingual(
                                f"toplam {parsed.issue_count} sorun var; "
                                f"ilk {len(errors)} tanesi gösterildi",
                                f"{parsed.issue_count} problems in all; "
                                f"the first {len(errors)} are shown",
                            ),
                        )
                    )
                raise DomainErrors(errors)
            if locked.channel == Channel.PAPER:
                # Art. 9(2)(ç): the Ek-2 header names the firm and the date; staff see where
                # they differ from the application before submitting it.
                firm = await Firm.get(id=locked.firm_id)
                parsed.warnings.extend(ek2_header_differences(locked, firm, parsed.ek2_blocks))
            stored = await files.record(
                actor,
                blob,
                kind=FileKind.DEVICE_LIST,
                original_name=filename,
                content_type="application/octet-stream",
                firm_id=application.firm_id,
            )
            locked.device_list_file_id = stored.id
            locked.device_count = device_count
            locked.imei_count = imei_count
            locked.widest_device = widest
            locked.passed_device_count = None
            locked.failed_device_count = None
            locked.updated_at = clock.now()
            await locked.save(
                update_fields=[
                    "device_list_file_id",
                    "device_count",
                    "imei_count",
                    "widest_device",
                    "passed_device_count",
                    "failed_device_count",
                    "updated_at",
                ]
            )
            await audit.record(
                actor,
                "application.device_list_uploaded",
                "Application",
                application_id,
                {
                    "fileId": stored.id,
                    "sha256": stored.sha256,
                    "name": filename,
                    "devices": device_count,
                    "imeis": imei_count,
                    "warnings": parsed.warning_count + readings.warning_count,
                    "ek2HeaderDifferences": [
                        w.message_en
                        for w in parsed.warnings
                        if w.code == IssueCode.EK2_HEADER_DIFFERS
                    ][:MAX_REPORTED_ISSUES],
                },
                firm_id=locked.firm_id,
            )
    except DeviceFileError as error:
        raise file_error(error) from error
    finally:
        await reading.aclose()
    log.info(
        "application %s: %s devices, %s IMEIs uploaded in %.2f s "
        "(store %.2f, parse and stage %.2f: first rows after %.2f, the rows %.2f, their "
        "IMEIs indexed %.2f; commit %.2f)",
        application_id,
        device_count,
        imei_count,
        time.perf_counter() - started,
        stored_at - started,
        staged_at - stored_at,
        first_rows_at - stored_at,
        rows_at - first_rows_at,
        staged_at - rows_at,
        time.perf_counter() - staged_at,
    )
    return UploadResult(
        application=locked,
        stored_file=stored,
        device_count=device_count,
        imei_count=imei_count,
        # The reader's warnings and the registry's, in row order.
        warnings=sorted(
            [*parsed.warnings, *readings.warnings], key=lambda w: (w.row or 0, w.column or "")
        )[:MAX_REPORTED_ISSUES],
        groups=[
            DeviceGroup(brand, model, count, matching, count - matching, matching)
            for (brand, model), (count, matching) in sorted(readings.groups.items())
        ],
    )


async def _index_imeis(conn: BaseDBAsyncClient, application_id: int, widest: int) -> None:
    """The list's IMEIs into `device_imei`, from the device rows just staged: one statement
    inside the database, in IMEI order. A million IMEIs sent as rows from here cost more
    than the device rows themselves, and inserted in the list's order each lands at a random
    place of the IMEI indexes (measured on SQLite: 15 s against 3.3 s in IMEI order).

    Each row also says whether its IMEI is repeated in the list (`DeviceImei.repeated`).
    PostgreSQL counts in the sort the insert makes anyway (no time measured on 10 million
    IMEIs); SQLite's window functions took 1.1 s more for a million, and an update of the
    few repeated ones after the insert 0.4-0.5 s, from the (application, IMEI) index.

    Only the IMEI columns some device fills (`widest`, the most IMEIs a device has) are
    read: each is a pass over the list's rows (on PostgreSQL 60 ms for a million, in vain
    for the columns left empty)."""
    p = bulk.placeholders(conn, 1)
    columns = imei_columns(widest)
    listed = " UNION ALL ".join(
        f"SELECT row_number, {column} AS imei FROM device WHERE application_id = {p}"
        + ("" if column == "imei1" else f" AND {column} IS NOT NULL")
        for column in columns
    )
    if bulk.is_postgres(conn):
        # Sorted byte-wise: IMEIs are digits, which every collation orders alike, and a
        # sort by the database's collation (strcoll, no abbreviated keys) took 1.1-1.3 s
        # for a million against 0.7 s.
        await conn.execute_query(
            "INSERT INTO device_imei (application_id, row_number, imei, repeated) "
            f'SELECT {p}, row_number, imei, COUNT(*) OVER (PARTITION BY imei COLLATE "C") > 1 '
            f'FROM ({listed}) AS listed ORDER BY imei COLLATE "C"',
            [application_id],
        )
        return
    await conn.execute_query(
        "INSERT INTO device_imei (application_id, row_number, imei) "
        f"SELECT ?, row_number, imei FROM ({listed}) AS listed ORDER BY imei",
        [application_id] * (1 + len(columns)),
    )
    await conn.execute_query(
        "UPDATE device_imei SET repeated = TRUE WHERE application_id = ? AND imei IN "
        "(SELECT imei FROM device_imei WHERE application_id = ? GROUP BY imei "
        "HAVING COUNT(*) > 1)",
        [application_id] * 2,
    )


def _device_rows(
    application_id: int,
    rows: list[StagedRow],
    matches: list[bool | None],
    conn: BaseDBAsyncClient,
) -> _ShapedRows:
    """A batch's device rows by the columns they fill. On SQLite a column left NULL is left
    out: binding the values is most of an insert's cost (770,000 rows: 2.2 s with all ten
    columns bound, 1.4 s with the six a single-IMEI device fills). PostgreSQL's COPY takes
    a NULL for next to nothing, and a COPY a shape cost more than it saved (1M IMEIs:
    upload 9.4-9.8 s against 8.9-9.3 s)."""
    if bulk.is_postgres(conn):
        return {
            _ALL_COLUMNS: [
                (
                    application_id,
                    r.row_number,
                    r.brand,
                    r.model,
                    *r.imeis,
                    *_NONE[len(r.imeis) :],
                    match,
                    notes_json(r) if r.notes else None,
                )
                for r, match in zip(rows, matches, strict=True)
            ]
        }
    by_shape: dict[_Shape, list[tuple[Any, ...]]] = {}
    for r, match in zip(rows, matches, strict=True):
        values: tuple[Any, ...] = (application_id, r.row_number, r.brand, r.model, *r.imeis)
        if match is not None:
            values += (match,)
        if r.notes:
            values += (notes_json(r),)
        shape = (len(r.imeis), match is not None, bool(r.notes))
        group = by_shape.get(shape)
        if group is None:
            by_shape[shape] = [values]
        else:
            group.append(values)
    return {_columns(shape): group for shape, group in by_shape.items()}


@functools.cache
def _columns(shape: _Shape) -> tuple[str, ...]:
    imeis, matched, noted = shape
    return (
        "application_id",
        "row_number",
        "brand",
        "model_code",
        *DEVICE_IMEI_COLUMNS[:imeis],
        *(("tac_match",) if matched else ()),
        *(("imei_notes",) if noted else ()),
    )


_ALL_COLUMNS = _columns((len(DEVICE_IMEI_COLUMNS), True, True))
_NONE = (None,) * len(DEVICE_IMEI_COLUMNS)


async def _insert_devices(shaped: _ShapedRows, conn: BaseDBAsyncClient) -> None:
    for columns, values in shaped.items():
        await bulk.insert_rows("device", columns, values, conn)
