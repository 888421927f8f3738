"""Device rows out of table-like files (xlsx, CSV), and the tally of what was found.

A row whose brand, model and IMEI cells are all blank is skipped (other columns may hold
notes). A row with a file-structure problem (no brand, model or IMEI, too many IMEIs) is
reported as issues and not handed on. Any other row is handed on, marked:

* an IMEI cell that cannot be an IMEI (letters, scientific notation, a fraction, a date)
  keeps its place with the cell's text, and an :class:`ImeiNote` says why: the device will
  fail INVALID_IMEI with it while the rest of the list is read and checked;
* a number shorter than an IMEI (a numeric cell, or a CSV field Excel wrote from one) may
  have lost its leading zeros: it is kept as read and listed in ``short_numbers``, for the
  upload to settle against the TAC registry;
* an IMEI column skipped: a warning.

Digits of any length are handed on: whether they make a valid IMEI is the analysis' call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from models.imei import IMEI_LENGTH, CleanedImei, ImeiTextProblem, clean_imei
from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.headers import (
    IMEI_COLUMNS,
    MAX_IMEIS_PER_DEVICE,
    ColumnRef,
    DeviceColumn,
    HeaderMatch,
    NumberedRow,
)
from resolvers.device_files.issues import FileIssue, IssueCode, make_issue
from resolvers.device_files.limits import DeviceFileLimits
from resolvers.device_files.values import (
    IMEI_SLOT_LENGTH,
    imei_cell_issue,
    imei_slot,
    is_blank,
    normalise_name,
)


@dataclass(frozen=True, slots=True)
class ImeiNote:
    """Why the IMEI at ``position`` (into ``DeviceRow.imeis``) cannot be an IMEI."""

    position: int
    issue: FileIssue


@dataclass(frozen=True, slots=True)
class ShortNumber:
    """A number shorter than an IMEI at ``position``: its leading zeros may be lost."""

    position: int
    column: str | None
    header: str | None


class DeviceRow(NamedTuple):
    """One device as declared: ``row_number`` is the file's own (1-based, header included).

    A tuple: a million are made per upload, five times faster than frozen dataclasses."""

    row_number: int
    brand: str
    model: str
    imeis: tuple[str, ...]
    warnings: tuple[FileIssue, ...] = ()
    notes: tuple[ImeiNote, ...] = ()
    short_numbers: tuple[ShortNumber, ...] = ()


_BLANK = CleanedImei("", ImeiTextProblem.EMPTY)
_EXACT_FLOAT_LIMIT = 2**53  # floats are exact integers up to here (see models.imei)


class IssueCollector:
    """Counts rows, devices, IMEIs, issues and warnings; keeps the first few issues."""

    def __init__(self, limits: DeviceFileLimits) -> None:
        self._limits = limits
        self.issues: list[FileIssue] = []
        self.warnings: list[FileIssue] = []
        self.issue_count = 0
        self.warning_count = 0
        self.row_count = 0  # non-blank rows, devices and refused ones alike
        self.device_count = 0
        self.imei_count = 0

    def count_row(self, row_number: int) -> None:
        self.row_count += 1
        if self.row_count > self._limits.max_device_rows:
            raise DeviceFileError.of(
                DeviceFileErrorCode.TOO_MANY_ROWS,
                row=row_number,
                limit=self._limits.max_device_rows,
            )

    def add(self, issue: FileIssue) -> None:
        if issue.is_warning:
            self.warning_count += 1
            if len(self.warnings) < self._limits.max_kept_issues:
                self.warnings.append(issue)
        else:
            self.issue_count += 1
            if len(self.issues) < self._limits.max_kept_issues:
                self.issues.append(issue)

    def accept(self, row: DeviceRow) -> DeviceRow:
        self.device_count += 1
        self.imei_count += len(row.imeis)
        for warning in row.warnings:
            self.add(warning)
        return row


class TableRowReader:
    """Turns the data rows under a header into device rows."""

    # Distinct brand/model texts cached: a list holds few of them, a million times over.
    _NAME_CACHE_SIZE = 10_000

    def __init__(
        self,
        header: HeaderMatch,
        collector: IssueCollector,
        limits: DeviceFileLimits,
        *,
        digits_may_be_numbers: bool = False,
    ):
        # CSV: Excel writes a numeric cell as plain digits, so digits may have been a number.
        self._digits_may_be_numbers = digits_may_be_numbers
        self._brand = header.columns[DeviceColumn.BRAND]
        self._model = header.columns[DeviceColumn.MODEL]
        self._imeis = [header.columns[c] for c in IMEI_COLUMNS if c in header.columns]
        self._imei_indexes = [ref.index for ref in self._imeis]
        self._extra = header.extra_imei_columns
        refs = [self._brand, self._model, *self._imeis, *self._extra]
        self._watched = [ref.index for ref in refs]
        self._width = max(self._watched) + 1
        self._collector = collector
        self._limits = limits
        self._names: dict[str, str | None] = {}

    def read(self, rows: Iterable[NumberedRow]) -> Iterator[DeviceRow]:
        watched = self._watched
        collector = self._collector
        for row_number, cells in rows:
            width = len(cells)
            # Hot loop (a million rows): a plain scan beats any()/generator overhead.
            for index in watched:
                if index < width and not is_blank(cells[index]):
                    break
            else:
                continue
            collector.count_row(row_number)
            if width < self._width:  # a short CSV record
                cells = [*cells, *([None] * (self._width - width))]
            device = self._usual(row_number, cells) or self._device(row_number, cells)
            if device is not None:
                yield collector.accept(device)

    def _usual(self, row: int, cells: Sequence[object]) -> DeviceRow | None:
        """The usual row, read without a word to say (None: read it the long way, which
        says what is unusual): brand and model texts seen before and fine, IMEI cells of
        digits (whole IMEIs where a number may have lost its zeros), no gap, nothing beyond
        the last IMEI column. Most rows of a million-row list are such."""
        names = self._names
        brand = names.get(cells[self._brand.index])  # type: ignore[call-overload]
        model = names.get(cells[self._model.index])  # type: ignore[call-overload]
        longest = self._limits.max_name_length
        if not brand or not model or len(brand) > longest or len(model) > longest:
            return None
        imeis = []
        blank = False
        for index in self._imei_indexes:
            value = cells[index]
            if value is None or value == "":
                blank = True
                continue
            if blank:
                return None
            if type(value) is float:  # a number cell: whole, exact, and no zero lost
                if not (0 <= value < _EXACT_FLOAT_LIMIT and value.is_integer()):
                    return None
                value = str(int(value))
                if len(value) < IMEI_LENGTH:
                    return None
            elif (
                type(value) is not str
                or not (value.isdigit() and value.isascii())
                or len(value) > IMEI_SLOT_LENGTH
                or (len(value) < IMEI_LENGTH and self._digits_may_be_numbers)
            ):
                return None
            imeis.append(value)
        if not imeis:
            return None
        for ref in self._extra:
            if not is_blank(cells[ref.index]):
                return None
        return DeviceRow(row, brand, model, tuple(imeis))

    def _normalise_name(self, value: object) -> str | None:
        if not isinstance(value, str):
            return normalise_name(value)
        try:
            return self._names[value]
        except KeyError:
            name = normalise_name(value)
            if len(self._names) < self._NAME_CACHE_SIZE:
                self._names[value] = name
            return name

    def _name(
        self, value: object, row: int, ref: ColumnRef, missing: IssueCode, issues: list[FileIssue]
    ) -> str:
        name = self._normalise_name(value)
        if name is None:
            issues.append(
                make_issue(IssueCode.NAME_NOT_TEXT, row, ref.letter, ref.header, value=value)
            )
        elif not name:
            issues.append(make_issue(missing, row, ref.letter, ref.header))
        elif len(name) > self._limits.max_name_length:
            limit = self._limits.max_name_length
            issues.append(
                make_issue(
                    IssueCode.NAME_TOO_LONG,
                    row,
                    ref.letter,
                    ref.header,
                    limit=limit,
                    length=len(name),
                )
            )
        return name or ""

    def _device(self, row: int, cells: Sequence[object]) -> DeviceRow | None:
        issues: list[FileIssue] = []
        warnings: list[FileIssue] = []
        brand = self._name(
            cells[self._brand.index], row, self._brand, IssueCode.MISSING_BRAND, issues
        )
        model = self._name(
            cells[self._model.index], row, self._model, IssueCode.MISSING_MODEL, issues
        )

        imeis: list[str] = []
        # Created when needed: most rows have neither (a million rows).
        notes: list[ImeiNote] | None = None
        short: list[ShortNumber] | None = None
        first_blank: ColumnRef | None = None
        gap_reported = False
        for ref in self._imeis:
            value = cells[ref.index]
            if isinstance(value, str) and value.isdigit() and value.isascii():
                # The usual cell: digits already.
                cleaned = CleanedImei(value, from_number=self._digits_may_be_numbers)
            elif value == "" or value is None:
                cleaned = _BLANK
            else:
                cleaned = clean_imei(value)
            if cleaned.problem is ImeiTextProblem.EMPTY:  # "", spaces, a lone "-"
                first_blank = first_blank or ref
                continue
            if first_blank is not None and not gap_reported:
                gap_reported = True
                warnings.append(
                    make_issue(IssueCode.IMEI_GAP, row, first_blank.letter, first_blank.header)
                )
            if cleaned.problem is not None:
                issue = imei_cell_issue(cleaned, row, ref.letter, ref.header)
                notes = notes or []
                notes.append(ImeiNote(len(imeis), issue))
                warnings.append(issue)
                imeis.append(imei_slot(cleaned.text))
                continue
            text = cleaned.text
            if cleaned.from_number and len(text) < IMEI_LENGTH:
                short = short or []
                short.append(ShortNumber(len(imeis), ref.letter, ref.header))
            imeis.append(text if len(text) <= IMEI_SLOT_LENGTH else imei_slot(text))
        for ref in self._extra:
            if not is_blank(cells[ref.index]):
                issues.append(
                    make_issue(
                        IssueCode.TOO_MANY_IMEIS,
                        row,
                        ref.letter,
                        ref.header,
                        limit=MAX_IMEIS_PER_DEVICE,
                    )
                )
        if not imeis:
            first = self._imeis[0]
            issues.append(make_issue(IssueCode.MISSING_IMEI, row, first.letter, first.header))
        if issues:
            for issue in issues:
                self._collector.add(issue)
            return None
        return DeviceRow(
            row,
            brand,
            model,
            tuple(imeis),
            tuple(warnings) if warnings else (),
            tuple(notes) if notes else (),
            tuple(short) if short else (),
        )
