"""CSV device lists: the delimiter is whichever of ``;`` ``,`` tab makes a header row appear.

Excel on a Turkish Windows saves "CSV" with ``;`` (the comma is the decimal separator there)
in Windows Turkish (cp1254); other tools write ``,`` and UTF-8, with or without a BOM.
Row numbers are CSV records counted from 1, blank lines included: what Excel shows when it
opens the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Final

from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.headers import (
    IMEI_COLUMNS,
    NumberedRow,
    Table,
    header_key,
    named_columns,
    split_header,
)
from resolvers.device_files.limits import DeviceFileLimits
from resolvers.device_files.source import OpenedSource, text_stream

DELIMITERS: Final = (";", ",", "\t")
_SAMPLE_CHARS: Final = 64 * 1024
_FIRM_PREFIX: Final = "FIRMA"


def sample_lines(opened: OpenedSource, encoding: str, errors: str) -> list[str]:
    """The first complete lines of a text file (for sniffing; the file is read again)."""
    with text_stream(opened, encoding, errors, newline=None) as text:
        sample = text.read(_SAMPLE_CHARS)
    lines = sample.splitlines()
    if len(sample) == _SAMPLE_CHARS and len(lines) > 1:
        lines.pop()  # cut mid-line
    return lines


def _header_score(cells: list[str]) -> int:
    named = named_columns(cells)
    # The Ek-2/Ek-3 caption "FİRMA ADI, MARKA, MODEL" names brand and model too, but has no
    # IMEI column: it is a text list, not a CSV header.
    if not named.intersection(IMEI_COLUMNS) and any(
        header_key(cell).startswith(_FIRM_PREFIX) for cell in cells
    ):
        return 0
    return len(named)


def sniff_delimiter(lines: list[str], limits: DeviceFileLimits) -> str | None:
    """The delimiter under which some early line names at least two template columns."""
    best_score, best = 1, None
    head = lines[: limits.header_search_rows]
    for delimiter in DELIMITERS:
        for cells in csv.reader(head, delimiter=delimiter):
            score = _header_score(cells)
            if score > best_score:
                best_score, best = score, delimiter
    return best


def _records(reader: Iterator[list[str]]) -> Iterator[NumberedRow]:
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as error:
        # A NUL byte, or a field past csv's size limit: the file is not a usable list.
        raise DeviceFileError.of(DeviceFileErrorCode.UNREADABLE_TEXT, row=number + 1) from error


def open_csv_table(
    opened: OpenedSource, encoding: str, errors: str, delimiter: str, limits: DeviceFileLimits
) -> Table:
    text = text_stream(opened, encoding, errors, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    return split_header(_records(reader), 0, limits, text.close)
