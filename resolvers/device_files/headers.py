"""Finding the header row of a device list and which column holds what.

Headers match whatever their case and Turkish letters: ``marka``, ``Marka`` and ``MARKA``
are the brand; ``ımeı1``, ``IMEI 1``, ``İMEİ-1`` and ``imei_1`` are IMEI1 (``i``, ``ı``,
``İ`` and ``I`` are folded to one letter, spaces and punctuation dropped). ``IMEI`` alone
is IMEI1. Columns may come in any order; unknown columns are ignored; ``IMEI5`` and beyond
are recognised so that values in them are reported instead of silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain, islice
from typing import Final

from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.limits import DeviceFileLimits

#: One row of a table-like file: its 1-based row number and its cells.
NumberedRow = tuple[int, Sequence[object]]


class DeviceColumn(StrEnum):
    """The template's columns; the values are the header texts firms see."""

    BRAND = "MARKA"
    MODEL = "MODEL"
    IMEI1 = "IMEI1"
    IMEI2 = "IMEI2"
    IMEI3 = "IMEI3"
    IMEI4 = "IMEI4"


DEVICE_COLUMNS: Final[tuple[str, ...]] = tuple(column.value for column in DeviceColumn)
IMEI_COLUMNS: Final = (
    DeviceColumn.IMEI1,
    DeviceColumn.IMEI2,
    DeviceColumn.IMEI3,
    DeviceColumn.IMEI4,
)
MAX_IMEIS_PER_DEVICE: Final = len(IMEI_COLUMNS)
REQUIRED_COLUMNS: Final = (DeviceColumn.BRAND, DeviceColumn.MODEL, DeviceColumn.IMEI1)

_I_FOLD: Final = str.maketrans({"i": "I", "ı": "I", "İ": "I"})
_COMBINING_DOT: Final = "\u0307"  # what "İ".lower() leaves behind
_NOT_KEY: Final = re.compile(r"[^0-9A-ZÇĞÖŞÜ]")
_IMEI_HEADER: Final = re.compile(r"IMEI(?:NO|NUMARASI)?(\d*)|(\d+)IMEI")
_NAMED_HEADERS: Final = {"MARKA": DeviceColumn.BRAND, "MODEL": DeviceColumn.MODEL}
# Marks a column IMEI5 or beyond.
EXTRA_IMEI: Final = "EXTRA_IMEI"


def fold_label(text: str) -> str:
    """Upper-case for comparing labels: Turkish-aware, and blind to dotted/dotless i."""
    text = unicodedata.normalize("NFC", text).replace(_COMBINING_DOT, "")
    return text.translate(_I_FOLD).upper()


def header_key(text: str) -> str:
    """A label reduced to its letters and digits, folded: "İmei 1" → "IMEI1"."""
    return _NOT_KEY.sub("", fold_label(text))


def classify_header(cell: object) -> DeviceColumn | str | None:
    """The template column a header cell names, EXTRA_IMEI for IMEI5+, None otherwise."""
    if not isinstance(cell, str) or not cell:
        return None
    key = header_key(cell)
    named = _NAMED_HEADERS.get(key)
    if named is not None:
        return named
    match = _IMEI_HEADER.fullmatch(key)
    if match is None:
        return None
    number = int(match.group(1) or match.group(2) or "1")
    if 1 <= number <= MAX_IMEIS_PER_DEVICE:
        return IMEI_COLUMNS[number - 1]
    return EXTRA_IMEI if number > MAX_IMEIS_PER_DEVICE else None


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the letters Excel shows."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """Where a column is: ``index`` in the row's cell list, ``letter`` as Excel shows it,
    ``header`` as written in the file."""

    index: int
    letter: str
    header: str


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    row_number: int
    columns: dict[DeviceColumn, ColumnRef]
    extra_imei_columns: tuple[ColumnRef, ...]


@dataclass(slots=True)
class Table:
    """A table-like file after its header row: the data rows still to be read."""

    header: HeaderMatch
    rows: Iterator[NumberedRow]
    close: Callable[[], None]


def _recognised(cells: Sequence[object]) -> list[tuple[int, DeviceColumn | str]]:
    found = [(index, classify_header(cell)) for index, cell in enumerate(cells)]
    return [(index, kind) for index, kind in found if kind is not None]


def named_columns(cells: Sequence[object]) -> set[DeviceColumn]:
    """The distinct template columns a row names."""
    return {kind for _, kind in _recognised(cells) if isinstance(kind, DeviceColumn)}


def _match(row_number: int, cells: Sequence[object], column_offset: int) -> HeaderMatch:
    columns: dict[DeviceColumn, list[ColumnRef]] = {}
    extra: list[ColumnRef] = []
    for index, kind in _recognised(cells):
        ref = ColumnRef(index, column_letter(column_offset + index), str(cells[index]).strip())
        if isinstance(kind, DeviceColumn):
            columns.setdefault(kind, []).append(ref)
        else:
            extra.append(ref)
    for column, refs in columns.items():
        if len(refs) > 1:
            raise DeviceFileError.of(
                DeviceFileErrorCode.DUPLICATE_COLUMNS,
                row=row_number,
                column=refs[1].letter,
                name=column.value,
                columns=", ".join(ref.letter for ref in refs),
            )
    missing = [column.value for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise DeviceFileError.of(
            DeviceFileErrorCode.MISSING_COLUMNS, row=row_number, missing=", ".join(missing)
        )
    return HeaderMatch(row_number, {k: refs[0] for k, refs in columns.items()}, tuple(extra))


def split_header(
    rows: Iterator[NumberedRow],
    column_offset: int,
    limits: DeviceFileLimits,
    close: Callable[[], None],
) -> Table:
    """Find the header among the first rows; the rows after it are the data.

    The header is the first row naming the most template columns (at least two); a row
    naming some but not all required columns is refused with the missing ones named.
    """
    head = list(islice(rows, limits.header_search_rows))
    scores = [len(named_columns(cells)) for _, cells in head]
    best = max(scores, default=0)
    if best < 2:
        raise DeviceFileError.of(
            DeviceFileErrorCode.HEADER_NOT_FOUND,
            rows=limits.header_search_rows,
            expected=", ".join(DEVICE_COLUMNS),
        )
    position = scores.index(best)
    row_number, cells = head[position]
    header = _match(row_number, cells, column_offset)
    return Table(header, chain(head[position + 1 :], rows), close)
