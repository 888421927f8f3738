"""Reading a firm's device list: Excel .xlsx, CSV or Ek-2 text, told apart by content.

:func:`read_device_file` refuses a file as a whole (:class:`DeviceFileError`) as early as
it can: size, format, zip bomb, header. The rows are then read lazily, once, so memory
does not grow with the list; row-level problems are collected on the :class:`DeviceFile`
as rows are read (and are complete once ``rows`` is exhausted)::

    with read_device_file(upload.file, filename=upload.filename) as device_file:
        for row in device_file.rows:
            stage(row)
        if device_file.issue_count:
            report(device_file.issues)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum
from types import TracebackType

from resolvers.device_files.delimited import open_csv_table, sample_lines, sniff_delimiter
from resolvers.device_files.ek2 import Ek2Block, Ek2Reader, looks_like_ek2
from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.headers import (
    DEVICE_COLUMNS,
    ColumnRef,
    DeviceColumn,
    HeaderMatch,
    Table,
)
from resolvers.device_files.issues import FileIssue
from resolvers.device_files.limits import DEFAULT_LIMITS, DeviceFileLimits
from resolvers.device_files.rows import DeviceRow, IssueCollector, TableRowReader
from resolvers.device_files.source import (
    DeviceFileSource,
    FileKind,
    OpenedSource,
    detect_encoding,
    open_source,
    sniff_kind,
    text_stream,
)
from resolvers.device_files.xlsx import open_xlsx_table

_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


class DeviceFileFormat(StrEnum):
    XLSX = "XLSX"
    CSV = "CSV"
    EK2_TEXT = "EK2_TEXT"


class DeviceFile:
    """A device list being read: what is known up front, the rows (one pass), the tally."""

    def __init__(
        self,
        file_format: DeviceFileFormat,
        opened: OpenedSource,
        collector: IssueCollector,
        device_rows: Iterator[DeviceRow],
        close_parser: Callable[[], None],
        *,
        header: HeaderMatch | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        ek2: Ek2Reader | None = None,
    ) -> None:
        self.format = file_format
        self.header_row = header.row_number if header else None
        #: Where each template column is (empty for Ek-2 text).
        self.columns: dict[DeviceColumn, ColumnRef] = dict(header.columns) if header else {}
        self.encoding = encoding
        self.delimiter = delimiter
        self._opened = opened
        self._collector = collector
        self._close_parser = close_parser
        self._ek2 = ek2
        self._closed = False
        #: The device rows; a single pass. Raises DeviceFileError TOO_MANY_ROWS while
        #: reading, and NO_DEVICE_ROWS at the end of a list without a single device row.
        self.rows: Iterator[DeviceRow] = self._read(device_rows)

    def _read(self, device_rows: Iterator[DeviceRow]) -> Iterator[DeviceRow]:
        try:
            yield from device_rows
            if self._collector.row_count == 0:
                raise DeviceFileError.of(DeviceFileErrorCode.NO_DEVICE_ROWS)
        finally:
            self.close()

    def __iter__(self) -> Iterator[DeviceRow]:
        return self.rows

    @property
    def issues(self) -> list[FileIssue]:
        """Row problems (rows not handed on), the first ``max_kept_issues`` of them."""
        return self._collector.issues

    @property
    def warnings(self) -> list[FileIssue]:
        """Warnings of rows handed on (also on each row), the first ``max_kept_issues``."""
        return self._collector.warnings

    @property
    def issue_count(self) -> int:
        return self._collector.issue_count

    @property
    def warning_count(self) -> int:
        return self._collector.warning_count

    @property
    def device_count(self) -> int:
        return self._collector.device_count

    @property
    def imei_count(self) -> int:
        return self._collector.imei_count

    @property
    def ek2_blocks(self) -> list[Ek2Block]:
        """Ek-2 text only: each brand/model list with its firm and import date."""
        return self._ek2.blocks if self._ek2 else []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._close_parser()
            finally:
                self._opened.close()

    def __enter__(self) -> DeviceFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_device_file(
    source: DeviceFileSource,
    *,
    filename: str | None = None,
    limits: DeviceFileLimits = DEFAULT_LIMITS,
) -> DeviceFile:
    """Open a device list. The format comes from the content; ``filename`` only makes the
    refusal of an unreadable file clearer. Raises :class:`DeviceFileError`."""
    opened = open_source(source, limits)
    try:
        return _open(opened, filename, limits)
    except BaseException:
        opened.close()
        raise


def _open(opened: OpenedSource, filename: str | None, limits: DeviceFileLimits) -> DeviceFile:
    collector = IssueCollector(limits)
    kind = sniff_kind(opened.stream)
    if kind is FileKind.ZIP:
        return _table_file(
            DeviceFileFormat.XLSX, opened, open_xlsx_table(opened, limits), collector, limits
        )
    if kind is FileKind.OLE2:
        raise DeviceFileError.of(DeviceFileErrorCode.LEGACY_OR_ENCRYPTED_EXCEL)
    if kind is FileKind.BINARY:
        raise DeviceFileError.of(DeviceFileErrorCode.NOT_XLSX)

    encoding, errors = detect_encoding(opened.stream)
    lines = sample_lines(opened, encoding, errors)
    delimiter = sniff_delimiter(lines, limits)
    if delimiter is not None:
        table = open_csv_table(opened, encoding, errors, delimiter, limits)
        return _table_file(
            DeviceFileFormat.CSV,
            opened,
            table,
            collector,
            limits,
            encoding=encoding,
            delimiter=delimiter,
        )
    if looks_like_ek2(lines):
        text = text_stream(opened, encoding, errors, newline=None)
        ek2 = Ek2Reader(collector)
        return DeviceFile(
            DeviceFileFormat.EK2_TEXT,
            opened,
            collector,
            ek2.read(text),
            text.close,
            encoding=encoding,
            ek2=ek2,
        )
    if filename and filename.lower().endswith(_EXCEL_SUFFIXES):
        raise DeviceFileError.of(DeviceFileErrorCode.NOT_XLSX)
    raise DeviceFileError.of(
        DeviceFileErrorCode.HEADER_NOT_FOUND,
        rows=limits.header_search_rows,
        expected=", ".join(DEVICE_COLUMNS),
    )


def _table_file(
    file_format: DeviceFileFormat,
    opened: OpenedSource,
    table: Table,
    collector: IssueCollector,
    limits: DeviceFileLimits,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> DeviceFile:
    device_rows = TableRowReader(
        table.header,
        collector,
        limits,
        digits_may_be_numbers=file_format is DeviceFileFormat.CSV,
    ).read(table.rows)
    return DeviceFile(
        file_format,
        opened,
        collector,
        device_rows,
        table.close,
        header=table.header,
        encoding=encoding,
        delimiter=delimiter,
    )
