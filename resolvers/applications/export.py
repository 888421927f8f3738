"""The analysis results as an .xlsx the firm downloads (passing or failing devices)."""

from __future__ import annotations

import asyncio
import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from models.checks import CheckCode
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.applications.results import DeviceResult, iter_devices
from resolvers.device_files import write_device_rows_xlsx

COLUMNS_TR = (
    "SATIR",
    "MARKA",
    "MODEL",
    "IMEI1",
    "IMEI2",
    "IMEI3",
    "IMEI4",
    "SONUÇ",
    "NEDENLER",
    "HATALI IMEI'LER",
    "AÇIKLAMA",
)
COLUMNS_EN = (
    "ROW",
    "BRAND",
    "MODEL",
    "IMEI1",
    "IMEI2",
    "IMEI3",
    "IMEI4",
    "RESULT",
    "REASONS",
    "FAILING IMEIS",
    "DETAILS",
)
_END = object()


def _cells(device: DeviceResult, lang: str) -> tuple[str, ...]:
    imeis = (*device.imeis, "", "", "", "")[:4]
    if device.passed is None:
        outcome = "Analiz edilmedi" if lang == "tr" else "Not analysed"
    elif device.passed:
        outcome = "Geçti" if lang == "tr" else "Passed"
    else:
        outcome = "Kaldı" if lang == "tr" else "Failed"
    reasons = "; ".join(r.label(lang) for r in device.reasons)
    # Which IMEI fails and why, per reason: "Geçersiz IMEI: IMEI2 … kontrol hanesi …".
    failing = ", ".join(dict.fromkeys(imei for r in device.reasons for imei in r.imeis))
    details = " | ".join(
        f"{r.label(lang)}: {r.detail(lang)}" if r.detail(lang) else r.label(lang)
        for r in device.reasons
    )
    return (
        str(device.row_number),
        device.brand,
        device.model,
        *imeis,
        outcome,
        reasons,
        failing,
        details,
    )


async def export_devices_xlsx(
    actor: Actor,
    application_id: int,
    passed: bool | None,
    reason: CheckCode | None,
    lang: str = "tr",
) -> Path:
    """Write the matching devices to a temporary .xlsx and return its path (caller deletes).

    The workbook is written in a thread (openpyxl is synchronous) fed batch by batch from
    the database, so a million-device export never sits in memory.
    """
    application = await get_application(actor, application_id)
    handle = tempfile.NamedTemporaryFile(prefix="mcks-export-", suffix=".xlsx", delete=False)
    handle.close()
    path = Path(handle.name)
    rows: queue.Queue[object] = queue.Queue(maxsize=10_000)
    failure: list[BaseException] = []

    def feed() -> Iterator[tuple[str, ...]]:
        while (item := rows.get()) is not _END:
            yield item  # type: ignore[misc]

    def write() -> None:
        try:
            write_device_rows_xlsx(
                feed(),
                COLUMNS_EN if lang == "en" else COLUMNS_TR,
                target=path,
                sheet_title="Devices" if lang == "en" else "Cihazlar",
            )
        except BaseException as error:
            failure.append(error)
            while rows.get() is not _END:  # let the producer finish
                pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        async for device in iter_devices(application, passed, reason):
            cells = _cells(device, lang)
            try:
                rows.put_nowait(cells)
            except queue.Full:
                await asyncio.to_thread(rows.put, cells)
    finally:
        await asyncio.to_thread(rows.put, _END)
        await asyncio.to_thread(writer.join)
    if failure:
        await asyncio.to_thread(path.unlink, True)
        raise failure[0]
    return path
