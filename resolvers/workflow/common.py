"""Small pieces the workflow's use cases share: references, dates, progress rows, uploads."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from models import clock
from models.applications import Application
from models.documents import ApplicationDocument, DocumentKind
from models.files import StoredFile
from models.progress import ApplicationProgress, SignatureMethod
from models.workflow import Channel
from resolvers import bulk
from resolvers.applications import outcome
from resolvers.documents.layout import regulator_zone
from resolvers.errors import invalid

Content = bytes | AsyncIterator[bytes]


def reference(application: Application) -> str:
    """The application's number on every document and e-mail (the Ek-1 "takip numarası")."""
    return f"MCKS-{application.created_at.astimezone(regulator_zone()).year}-{application.id:06d}"


def turkish_today() -> date:
    """Today on the Turkish calendar: what decides the fee year and document dates."""
    return clock.now().astimezone(regulator_zone()).date()


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def format_day(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day is not None else "—"


async def progress_of(application_id: int) -> ApplicationProgress:
    """The application's progress row (created on first use; call inside the transaction
    that holds the application's row lock, so two writers cannot both create it)."""
    progress = await ApplicationProgress.get_or_none(application_id=application_id)
    if progress is None:
        progress = await ApplicationProgress.create(
            application_id=application_id, updated_at=clock.now()
        )
    return progress


def signature_path(
    application: Application, progress: ApplicationProgress | None
) -> SignatureMethod | None:
    """Paper applications are signed in ink by nature; electronic ones as the firm chose."""
    if application.channel == Channel.PAPER:
        return SignatureMethod.WET_SIGNATURE
    return progress.signature_method if progress is not None else None


async def current_document(
    application_id: int, kind: DocumentKind
) -> tuple[ApplicationDocument, StoredFile] | None:
    """The newest document of a kind (uploading again keeps the old row as history)."""
    document = (
        await ApplicationDocument.filter(application_id=application_id, kind=kind)
        .order_by("-id")
        .first()
    )
    if document is None:
        return None
    stored = await StoredFile.get(id=document.file_id)
    return document, stored


async def read_upload(content: Content, max_bytes: int, field: str = "file") -> bytes:
    """An upload into memory, refused as soon as it passes `max_bytes` (documents are small;
    the whole content is needed to check its type and signature)."""
    if isinstance(content, bytes):
        chunks: list[bytes] = [content]
        size = len(content)
    else:
        chunks, size = [], 0
        async for chunk in content:
            size += len(chunk)
            if size > max_bytes:
                break
            chunks.append(chunk)
    if size > max_bytes:
        raise invalid(
            field,
            f"dosya {max_bytes // 1024} KB sınırını aşıyor",
            f"the file exceeds the {max_bytes // 1024} KB limit",
        )
    data = b"".join(chunks)
    if not data:
        raise invalid(field, "dosya boş", "the file is empty")
    return data


@dataclass(frozen=True, slots=True)
class DeviceGroupCount:
    brand: str
    model: str
    devices: int
    imeis: int


async def passing_groups(application_id: int) -> list[DeviceGroupCount]:
    """The passing devices by brand and model, with their IMEI counts (one statement; none
    before the analysis)."""
    rows = await bulk.select(
        "SELECT brand, model_code, COUNT(*), SUM(1 "
        "+ CASE WHEN imei2 IS NULL THEN 0 ELSE 1 END "
        "+ CASE WHEN imei3 IS NULL THEN 0 ELSE 1 END "
        "+ CASE WHEN imei4 IS NULL THEN 0 ELSE 1 END) "
        f"FROM device d WHERE application_id = ? AND {outcome.analysed_sql('?')} "
        f"AND NOT {outcome.failing_sql('d')} "
        "GROUP BY brand, model_code ORDER BY brand, model_code",
        [application_id, application_id],
    )
    return [DeviceGroupCount(str(r[0]), str(r[1]), int(r[2]), int(r[3] or 0)) for r in rows]
