"""Loading the TAC registry from a CSV file (`mcks tac import`, the `importTacModels` mutation).

The file needs a header row naming the columns `tac, brand, model, imei_count` (required) and
`marketing_name, device_type` (optional), in any order, any case; other columns are ignored.
Bad lines are reported by line number and skipped; good lines are applied in one transaction.

Two modes:
- REPLACE (the default): the file *is* the registry. Listed TACs are inserted or updated in
  place (retired ones come back), active TACs the file no longer lists are retired. An import
  that would retire more than a set share of the active registry is refused unless forced —
  a truncated export must not wipe the registry.
- MERGE: listed TACs are inserted or updated; nothing is retired.

Set-based throughout: the registry is read in one query, new rows inserted and changed rows
updated in batches, never one round trip per line.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import clock
from models.labels import register
from resolvers import audit, bulk
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.files import sniff_kind
from resolvers.settings import get_settings
from resolvers.tac.fields import (
    BRAND,
    DEVICE_TYPE,
    MARKETING_NAME,
    MAX_BRAND,
    MAX_DEVICE_TYPE,
    MAX_MARKETING_NAME,
    MAX_MODEL,
    MODEL,
    TacLineCode,
    TacModelData,
    ValueProblem,
    clean_brand_model,
    clean_imei_count,
    clean_tac,
    clean_text,
)
from resolvers.tac.registry import IMPORTERS, lock_registry, require

MAX_FILE_BYTES = 64 * 1024 * 1024  # 200,000 registry lines are about 10 MB

REQUIRED_COLUMNS = ("tac", "brand", "model", "imei_count")
OPTIONAL_COLUMNS = ("marketing_name", "device_type")
COLUMN_ALIASES = {"model_code": "model"}
DELIMITERS = (",", ";", "\t")
CLEANERS: tuple[tuple[str, Callable[[str], object]], ...] = (
    ("tac", clean_tac),
    ("brand", lambda v: clean_brand_model(v, MAX_BRAND, BRAND)),
    ("model", lambda v: clean_brand_model(v, MAX_MODEL, MODEL)),
    ("marketing_name", lambda v: clean_text(v, MAX_MARKETING_NAME, MARKETING_NAME)),
    ("device_type", lambda v: clean_text(v, MAX_DEVICE_TYPE, DEVICE_TYPE)),
    ("imei_count", clean_imei_count),
)
# A registry has a few thousand brands and a handful of device types over 200,000 lines.
REPEATING_COLUMNS = frozenset({"brand", "device_type", "imei_count"})


class TacImportMode(StrEnum):
    REPLACE = "REPLACE"
    MERGE = "MERGE"


register(
    TacImportMode,
    {
        "REPLACE": ("Tam liste (değiştir)", "Replace (full list)"),
        "MERGE": ("Ekle/güncelle", "Merge (add or update)"),
    },
)


@dataclass(frozen=True, slots=True)
class ImportLineError:
    line: int  # physical line in the file, the header being line 1 (or wherever it was)
    column: str  # as the file's header spells it
    code: TacLineCode
    message_tr: str
    message_en: str


@dataclass
class ParsedFile:
    rows: dict[str, TacModelData] = field(default_factory=dict)
    line_errors: list[ImportLineError] = field(default_factory=list)
    # TACs named on refused lines: their registry entries are left alone, never retired.
    mentioned: set[str] = field(default_factory=set)
    data_lines: int = 0


@dataclass(frozen=True)
class ImportResult:
    mode: TacImportMode
    forced: bool
    data_lines: int
    inserted: int
    updated: int
    reactivated: int
    retired: int
    unchanged: int
    line_errors: list[ImportLineError]


# --- reading the file --------------------------------------------------------------------


def _file_error(reason_tr: str, reason_en: str) -> DomainError:
    return invalid("file", reason_tr, reason_en)


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else Windows
    Turkish (cp1254, what Excel writes for "CSV" on a Turkish Windows)."""
    kind = sniff_kind(content[:8])
    if kind == "application/zip":
        raise _file_error(
            "bu bir Excel (.xlsx) ya da ZIP dosyası; CSV olarak kaydedip yükleyin",
            "this is an Excel (.xlsx) or ZIP file; save it as CSV and upload that",
        )
    if kind is not None:
        raise _file_error("dosya CSV değil", "the file is not CSV")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _file_error("dosya okunamadı (UTF-16)", "the file is not valid UTF-16") from exc
    if b"\x00" in content[:65536]:
        raise _file_error("dosya metin (CSV) değil", "the file is not text (CSV)")
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1254")
    except UnicodeDecodeError as exc:
        raise _file_error(
            "dosyanın karakter kodlaması tanınmadı; UTF-8 olarak kaydedin",
            "the file's encoding is not recognised; save it as UTF-8",
        ) from exc


def _header_key(name: str) -> str:
    # `IMEI Count`, `İMEİ_COUNT`, `imei-count` all name the same column.
    key = name.strip().strip("\ufeff").replace("İ", "i").replace("I", "i").lower()
    key = "_".join(key.replace("-", " ").replace("_", " ").split())
    return COLUMN_ALIASES.get(key, key)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) per CSV record; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last = 0
    try:
        for cells in reader:
            yield last + 1, cells
            last = reader.line_num
    except csv.Error as exc:
        line = reader.line_num or last + 1
        raise _file_error(
            f"{line}. satır CSV olarak okunamadı ({exc})",
            f"line {line} could not be read as CSV ({exc})",
        ) from exc


def _columns(header: list[str], line: int) -> dict[str, tuple[int, str]]:
    """Known column → (index, name as written). Unknown columns are ignored."""
    columns: dict[str, tuple[int, str]] = {}
    for index, name in enumerate(header):
        key = _header_key(name)
        if key not in REQUIRED_COLUMNS and key not in OPTIONAL_COLUMNS:
            continue
        if key in columns:
            raise _file_error(
                f"'{key}' sütunu başlıkta iki kez var ({line}. satır)",
                f"the column '{key}' appears twice in the header (line {line})",
            )
        columns[key] = (index, name.strip().strip("\ufeff"))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        first = header[0].strip() if header else ""
        if first.isdigit():
            raise _file_error(
                "başlık satırı yok: ilk satır sütun adlarını vermeli "
                f"({', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
                "the header row is missing: the first line must name the columns "
                f"({', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
            )
        raise _file_error(
            f"başlık satırında zorunlu sütunlar eksik: {', '.join(missing)}",
            f"the header lacks required columns: {', '.join(missing)}",
        )
    return columns


def _memoised(clean: Callable[[str], object]) -> Callable[[str], object]:
    """A cleaner that remembers its answers (values that fail are checked again, and raise)."""
    seen: dict[str, object] = {}

    def cached(raw: str) -> object:
        try:
            return seen[raw]
        except KeyError:
            value = seen[raw] = clean(raw)
            return value

    return cached


def parse_tac_csv(content: bytes) -> ParsedFile:
    """Every line checked; file-level problems raise, line problems are collected."""
    if not content.strip():
        raise _file_error("dosya boş", "the file is empty")
    text = decode(content)
    header_line = next((ln for ln in io.StringIO(text) if ln.strip()), "")
    records = _records(text, _delimiter(header_line))
    header: list[str] | None = None
    header_at = 0
    for line, cells in records:
        if "".join(cells).strip():
            header, header_at = cells, line
            break
    if header is None:
        raise _file_error("dosya boş", "the file is empty")
    columns = _columns(header, header_at)
    parsed = ParsedFile()
    first_seen: dict[str, int] = {}
    # (key, cell index or None when the optional column is absent, cleaner, column as written)
    plan = [
        (
            key,
            columns[key][0] if key in columns else None,
            _memoised(clean) if key in REPEATING_COLUMNS else clean,
            columns.get(key, (0, key))[1],
        )
        for key, clean in CLEANERS
    ]
    width = max(index for index, _ in columns.values()) + 1
    tac_column = columns["tac"][1]
    for line, cells in records:
        if not "".join(cells).strip():
            continue  # blank lines (and lines of empty cells) carry nothing
        parsed.data_lines += 1
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        values: dict[str, object] = {}
        problems: list[ImportLineError] = []
        for key, index, clean, column in plan:
            try:
                values[key] = clean(cells[index] if index is not None else "")
            except ValueProblem as problem:
                problems.append(
                    ImportLineError(
                        line, column, problem.code, problem.message_tr, problem.message_en
                    )
                )
        tac = values.get("tac")
        if isinstance(tac, str):
            if tac in first_seen:
                problems.append(
                    ImportLineError(
                        line,
                        tac_column,
                        TacLineCode.DUPLICATE_TAC,
                        f"TAC {tac} dosyada {first_seen[tac]}. satırda da var; bu satır alınmadı",
                        f"TAC {tac} also appears on line {first_seen[tac]}; this line was skipped",
                    )
                )
            else:
                first_seen[tac] = line
        if problems:
            parsed.line_errors.extend(problems)
            if isinstance(tac, str):
                parsed.mentioned.add(tac)
            continue
        parsed.rows[tac] = TacModelData(  # type: ignore[index]
            tac=tac,  # type: ignore[arg-type]
            brand=values["brand"],  # type: ignore[arg-type]
            model_code=values["model"],  # type: ignore[arg-type]
            marketing_name=values["marketing_name"],  # type: ignore[arg-type]
            device_type=values["device_type"],  # type: ignore[arg-type]
            imei_count=values["imei_count"],  # type: ignore[arg-type]
        )
    return parsed


# --- applying it -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Existing:
    id: int
    values: tuple[str, str, str, str, int]  # brand, model_code, marketing_name, device_type, count
    is_active: bool


def _values(data: TacModelData) -> tuple[str, str, str, str, int]:
    return (data.brand, data.model_code, data.marketing_name, data.device_type, data.imei_count)


async def _registry(conn: BaseDBAsyncClient) -> dict[str, _Existing]:
    _, rows = await conn.execute_query(
        "SELECT id, tac, brand, model_code, marketing_name, device_type, imei_count, is_active "
        "FROM tac_model"
    )
    return {
        row[1]: _Existing(
            id=row[0],
            values=(row[2], row[3], row[4], row[5], int(row[6])),
            is_active=bool(row[7]),
        )
        for row in rows
    }


def configured_retire_share() -> float:
    return get_settings().tac_max_retire_share


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".rstrip("0").rstrip(".")


def _too_large() -> DomainError:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return _file_error(
        f"dosya {limit} MB sınırını aşıyor", f"the file exceeds the {limit} MB limit"
    )


async def _read(content: bytes | AsyncIterator[bytes]) -> bytes:
    if isinstance(content, bytes):
        if len(content) > MAX_FILE_BYTES:
            raise _too_large()
        return content
    buffer = bytearray()
    async for chunk in content:
        buffer += chunk
        if len(buffer) > MAX_FILE_BYTES:
            raise _too_large()
    return bytes(buffer)


async def import_tac_csv(
    actor: Actor,
    content: bytes | AsyncIterator[bytes],
    *,
    file_name: str = "",
    mode: TacImportMode = TacImportMode.REPLACE,
    force: bool = False,
    max_retire_share: float | None = None,
) -> ImportResult:
    """Apply a registry file; see the module's docstring for the modes and the guard."""
    require(actor, IMPORTERS)
    content = await _read(content)
    # A second of CPU for a full registry: off the event loop, so other requests go on.
    parsed = await asyncio.to_thread(parse_tac_csv, content)
    share_limit = configured_retire_share() if max_retire_share is None else max_retire_share
    now = clock.now()
    async with in_transaction() as conn:
        await lock_registry(conn)
        registry = await _registry(conn)
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        reactivated = updated = unchanged = 0
        for tac, data in parsed.rows.items():
            values = _values(data)
            current = registry.get(tac)
            if current is None:
                inserts.append((tac, *values, True, now, now))
            elif not current.is_active:
                reactivated += 1
                updates.append((*values, True, now, current.id))
            elif current.values != values:
                updated += 1
                updates.append((*values, True, now, current.id))
            else:
                unchanged += 1
        retire_ids: list[int] = []
        if mode == TacImportMode.REPLACE:
            keep = parsed.rows.keys() | parsed.mentioned
            retire_ids = [e.id for tac, e in registry.items() if e.is_active and tac not in keep]
        active = sum(1 for e in registry.values() if e.is_active)
        if retire_ids and not force and len(retire_ids) > share_limit * active:
            raise DomainError(
                ErrorCode.TAC_RETIRE_LIMIT_EXCEEDED,
                field="force",
                retiring=len(retire_ids),
                active=active,
                percent=_percent(len(retire_ids) / active),
                limit=_percent(share_limit),
            )
        await bulk.insert_rows(
            "tac_model",
            (
                "tac",
                "brand",
                "model_code",
                "marketing_name",
                "device_type",
                "imei_count",
                "is_active",
                "created_at",
                "updated_at",
            ),
            inserts,
            conn,
        )
        await bulk.execute_many(
            "UPDATE tac_model SET brand = ?, model_code = ?, marketing_name = ?, "
            "device_type = ?, imei_count = ?, is_active = ?, updated_at = ? WHERE id = ?",
            updates,
            conn,
        )
        await bulk.execute_many(
            "UPDATE tac_model SET is_active = ?, updated_at = ? WHERE id = ?",
            [(False, now, key) for key in retire_ids],
            conn,
        )
        result = ImportResult(
            mode=mode,
            forced=force,
            data_lines=parsed.data_lines,
            inserted=len(inserts),
            updated=updated,
            reactivated=reactivated,
            retired=len(retire_ids),
            unchanged=unchanged,
            line_errors=parsed.line_errors,
        )
        await audit.record(
            actor,
            "tac.imported",
            "TacImport",
            hashlib.sha256(content).hexdigest(),
            {
                "fileName": file_name,
                "mode": mode.value,
                "force": force,
                "dataLines": result.data_lines,
                "inserted": result.inserted,
                "updated": result.updated,
                "reactivated": result.reactivated,
                "retired": result.retired,
                "unchanged": result.unchanged,
                "lineErrors": len(result.line_errors),
            },
        )
    return result
