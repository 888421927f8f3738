"""Device lists out to .xlsx, streamed (openpyxl write-only), every value a text cell.

What a firm typed is data, never a formula: a value starting with ``=`` would be written
by openpyxl as a formula and one like ``#N/A`` as an error, so such cells are forced to the
string type; they (and those starting with ``+ - @``, tab or CR, which Excel turns into
formulas when someone edits the cell) also get the text number format, as do the whole
columns, so that editing in Excel keeps them text.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import BinaryIO, Final, overload

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from models.names import FORMULA_PREFIXES
from resolvers.device_files.headers import MAX_IMEIS_PER_DEVICE, header_key
from resolvers.device_files.rows import DeviceRow
from resolvers.device_files.template import TEMPLATE_SHEET, TEXT_FORMAT

_FORMULA_PREFIXES: Final = FORMULA_PREFIXES
_MAX_CELL_CHARS: Final = 32_767  # Excel's limit per cell
_IMEI_WIDTH: Final = 20
_MIN_WIDTH: Final = 14
_MAX_WIDTH: Final = 50


def device_row_cells(row: DeviceRow) -> tuple[str, ...]:
    """A device row as the template's columns: MARKA, MODEL, IMEI1–IMEI4 ("" when absent)."""
    padding = ("",) * (MAX_IMEIS_PER_DEVICE - len(row.imeis))
    return (row.brand, row.model, *row.imeis[:MAX_IMEIS_PER_DEVICE], *padding)


def _text(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters: refused by xlsx
    return text[:_MAX_CELL_CHARS]


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"  # openpyxl made "=…" a formula ("f") and "#N/A" an error ("e")
    cell.number_format = TEXT_FORMAT
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    if value is None:
        return None
    text = _text(value)
    if text.startswith(_FORMULA_PREFIXES) or text in ERROR_CODES:
        return _text_cell(sheet, text)
    return text  # a plain string: openpyxl writes it as an inline string


def _width(header: str) -> int:
    if header_key(header).startswith("IMEI"):
        return _IMEI_WIDTH
    return max(_MIN_WIDTH, min(_MAX_WIDTH, len(header) + 6))


def _write(
    target: str | os.PathLike[str] | BinaryIO,
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    sheet_title: str,
) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, header in enumerate(columns, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = _width(header)
        dimension.number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"
    header_cells = [_text_cell(sheet, _text(header)) for header in columns]
    for cell in header_cells:
        cell.font = Font(bold=True)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    workbook.save(target)


@overload
def write_device_rows_xlsx(
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    *,
    target: None = None,
    sheet_title: str = TEMPLATE_SHEET,
) -> bytes: ...


@overload
def write_device_rows_xlsx(
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    *,
    target: str | os.PathLike[str] | BinaryIO,
    sheet_title: str = TEMPLATE_SHEET,
) -> None: ...


def write_device_rows_xlsx(
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    *,
    target: str | os.PathLike[str] | BinaryIO | None = None,
    sheet_title: str = TEMPLATE_SHEET,
) -> bytes | None:
    """Write ``rows`` (iterated once, never held) under the header ``columns``.

    Every value is written as text (None as an empty cell). With ``target`` (a path or a
    binary stream) the workbook goes there and None is returned; without, the bytes are
    returned — for large exports prefer a target. For device rows use
    ``(device_row_cells(row) for row in rows)`` with ``DEVICE_COLUMNS``.
    """
    if target is not None:
        _write(target, rows, columns, sheet_title)
        return None
    out = io.BytesIO()
    _write(out, rows, columns, sheet_title)
    return out.getvalue()
