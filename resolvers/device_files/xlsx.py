"""Excel .xlsx: the zip-bomb guard, then rows through python-calamine.

An .xlsx is a zip of XML parts. Before anything is decompressed, the zip's central
directory is inspected: the number of parts, the total declared uncompressed size and the
compression ratio of each big part must stay within the limits. The declared sizes can be
trusted because calamine refuses a part that inflates past its declared size.

calamine yields each row as a list of cells starting at the sheet's first used column;
rows start at the sheet's first row, so leading empty rows are counted and row numbers
stay Excel's own.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO, Final

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.headers import Table, split_header
from resolvers.device_files.limits import MIB, DeviceFileLimits
from resolvers.device_files.source import OpenedSource

_EOCD_SIGNATURE: Final = b"PK\x05\x06"
_EOCD_SIZE: Final = 22
_MAX_COMMENT: Final = 0xFFFF
_ZIP64_COUNT: Final = 0xFFFF
_ENCRYPTED_FLAG: Final = 0x1
_REQUIRED_PARTS: Final = ("[Content_Types].xml", "xl/workbook.xml")


def _declared_entry_count(stream: BinaryIO) -> int | None:
    """The part count from the end-of-central-directory record, read before zipfile builds
    one object per entry (None when absent or a zip64 archive: zipfile's count is used)."""
    size = stream.seek(0, 2)
    tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    stream.seek(0)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or at + _EOCD_SIZE > len(tail):
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    return None if count == _ZIP64_COUNT else int(count)


def check_xlsx_container(stream: BinaryIO, limits: DeviceFileLimits) -> None:
    """Refuse zip bombs and zips that are not workbooks, reading only the directory."""
    count = _declared_entry_count(stream)
    if count is not None and count > limits.max_zip_members:
        raise DeviceFileError.of(DeviceFileErrorCode.XLSX_TOO_MANY_PARTS, count=count)
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DeviceFileError.of(DeviceFileErrorCode.CORRUPT_XLSX) from error
    finally:
        stream.seek(0)
    if len(parts) > limits.max_zip_members:
        raise DeviceFileError.of(DeviceFileErrorCode.XLSX_TOO_MANY_PARTS, count=len(parts))
    names = {part.filename for part in parts}
    if not all(name in names for name in _REQUIRED_PARTS):
        raise DeviceFileError.of(DeviceFileErrorCode.NOT_XLSX)
    if any(part.flag_bits & _ENCRYPTED_FLAG for part in parts):
        raise DeviceFileError.of(DeviceFileErrorCode.LEGACY_OR_ENCRYPTED_EXCEL)
    total = sum(part.file_size for part in parts)
    if total > limits.max_uncompressed_bytes:
        raise DeviceFileError.of(
            DeviceFileErrorCode.XLSX_TOO_LARGE_UNCOMPRESSED,
            size_mb=total // MIB,
            limit_mb=limits.max_uncompressed_bytes // MIB,
        )
    for part in parts:
        if part.file_size < limits.ratio_check_min_bytes:
            continue
        ratio = part.file_size / max(part.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise DeviceFileError.of(
                DeviceFileErrorCode.XLSX_SUSPICIOUS_COMPRESSION,
                member=part.filename,
                ratio=int(ratio),
            )


def _sheet_order(workbook: CalamineWorkbook) -> list[int]:
    """Worksheets in workbook order, visible ones first (chart sheets hold no rows)."""
    sheets = [
        (meta.visible is not SheetVisibleEnum.Visible, index)
        for index, meta in enumerate(workbook.sheets_metadata)
        if meta.typ is SheetTypeEnum.WorkSheet
    ]
    return [index for _, index in sorted(sheets)]


def _more_telling(current: DeviceFileError | None, candidate: DeviceFileError) -> DeviceFileError:
    # "Column IMEI1 is missing" beats "no header" when a later sheet has no header at all.
    if current is None or current.code is DeviceFileErrorCode.HEADER_NOT_FOUND:
        return candidate
    return current


def open_xlsx_table(opened: OpenedSource, limits: DeviceFileLimits) -> Table:
    """The first worksheet with a device-list header, positioned after its header row."""
    check_xlsx_container(opened.stream, limits)
    try:
        if opened.path is not None:
            workbook = CalamineWorkbook.from_path(opened.path)
        else:
            workbook = CalamineWorkbook.from_filelike(opened.stream)
    except PasswordError as error:
        raise DeviceFileError.of(DeviceFileErrorCode.LEGACY_OR_ENCRYPTED_EXCEL) from error
    except (CalamineError, ValueError) as error:
        raise DeviceFileError.of(DeviceFileErrorCode.CORRUPT_XLSX) from error
    failure: DeviceFileError | None = None
    try:
        for index in _sheet_order(workbook):
            # Loads the sheet's cells (compact Rust values); rows become Python lists lazily.
            sheet = workbook.get_sheet_by_index(index)
            if sheet.start is None:
                continue  # an empty sheet
            rows = enumerate(sheet.iter_rows(), start=1)
            try:
                return split_header(rows, sheet.start[1], limits, workbook.close)
            except DeviceFileError as error:
                failure = _more_telling(failure, error)
    except (CalamineError, ValueError) as error:
        workbook.close()
        raise DeviceFileError.of(DeviceFileErrorCode.CORRUPT_XLSX) from error
    workbook.close()
    raise failure or DeviceFileError.of(DeviceFileErrorCode.NO_DEVICE_ROWS)
