"""Ek-2: the communiqué's plain-text IMEI list, which paper applications bring.

The communiqué (Ek-2) shows the layout with captions where the values go::

    Ek-2
    FİRMA ADI, MARKA MODEL
    İTHALAT TARİHİ
    IMEI NUMARALARI
    123456789012345
    123456789012345

What we accept. Lines are trimmed; blank lines are skipped but keep their numbers (row
numbers in issues are line numbers); labels match in any case, with or without Turkish
letters.

* Skipped: the title ("Ek-2", "EK 2") and caption lines made only of the template's words
  ("FİRMA ADI, MARKA MODEL", "İTHALAT TARİHİ", "IMEI NUMARALARI").
* Brand/model line, unlabelled: ``<firm>, <BRAND> <MODEL>`` — everything before the last
  comma is the firm, the first word after it the brand, the rest the model — or
  ``<firm>, <BRAND>, <MODEL>`` when the last part is a single word. Multi-word brands need
  labels.
* Labelled lines ``LABEL: value`` (or ``=``): ``FİRMA`` / ``FİRMA ADI`` / ``FİRMA ÜNVANI``,
  ``MARKA``, ``MODEL``, ``MARKA MODEL`` and ``FİRMA ADI, MARKA MODEL`` (value read as
  above), ``İTHALAT TARİHİ`` / ``TARİH``, and ``IMEI`` (value read as an IMEI line).
* Import date alone on a line: DD.MM.YYYY, DD/MM/YYYY, DD-MM-YYYY or YYYY-MM-DD.
* IMEI lines (no letters): one device per line. Several IMEIs of one device are separated
  by ``;`` ``,`` ``|`` ``/`` or tab, or by spaces when every part is a whole IMEI (14–16
  digits); otherwise spaces, hyphens and dots are separators inside one IMEI, as in the
  spreadsheets.
* Several lists in one file: a brand/model line after IMEIs starts a new block; firm and
  date carry over.

IMEIs before any brand/model line refuse the file; a line that fits none of the above is
reported (UNRECOGNISED_LINE) with its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from models.imei import ImeiTextProblem, clean_imei
from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.headers import MAX_IMEIS_PER_DEVICE, fold_label, header_key
from resolvers.device_files.issues import FileIssue, IssueCode, make_issue
from resolvers.device_files.rows import DeviceRow, ImeiNote, IssueCollector
from resolvers.device_files.values import imei_cell_issue, imei_slot, normalise_name

_WORD: Final = re.compile(r"[0-9A-ZÇĞÖŞÜ]+")
_CAPTION_WORDS: Final = frozenset(
    {"EK", "2", "FIRMA", "ADI", "ÜNVANI", "UNVANI", "MARKA", "MODEL", "ITHALAT", "TARIHI"}
    | {"IMEI", "NUMARALARI", "NUMARASI", "LISTESI"}
)
_FIRM_LABELS: Final = frozenset({"FIRMA", "FIRMAADI", "FIRMAÜNVANI", "FIRMAUNVANI"})
_LINE_LABELS: Final = frozenset({"MARKAMODEL", "FIRMAMARKAMODEL", "FIRMAADIMARKAMODEL"})
_DATE_LABELS: Final = frozenset({"ITHALATTARIHI", "TARIH", "TARIHI"})
_IMEI_LABELS: Final = frozenset({"IMEI", "IMEINO", "IMEINUMARASI"})
_KNOWN_LABELS: Final = (
    _FIRM_LABELS | _LINE_LABELS | _DATE_LABELS | _IMEI_LABELS | {"MARKA", "MODEL"}
)
_LABEL_SEPARATOR: Final = re.compile(r"[:=]")
_DAY_FIRST: Final = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_IMEI_LIST_SEPARATORS: Final = re.compile(r"[;,|/\t]")
_WHOLE_IMEI_LENGTHS: Final = range(14, 17)
# A line with letters but at least this many digits is taken for a mistyped IMEI.
_MIN_DIGITS_OF_IMEI_LINE: Final = 8
_SNIFF_LINES: Final = 20


@dataclass(slots=True)
class Ek2Block:
    """One brand/model list of the file: where its header starts and what it declares."""

    line: int
    firm_name: str | None
    brand: str
    model: str
    import_date: date | None
    device_count: int = 0


def parse_date(text: str) -> date | None:
    day_first = _DAY_FIRST.fullmatch(text)
    iso = _ISO_DATE.fullmatch(text)
    try:
        if day_first:
            return date(int(day_first[3]), int(day_first[2]), int(day_first[1]))
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError:  # 31.02.2024
        return None
    return None


def _is_caption(line: str) -> bool:
    words = _WORD.findall(fold_label(line))
    return any(word.isalpha() for word in words) and all(word in _CAPTION_WORDS for word in words)


def _has_letters(text: str) -> bool:
    return any(char.isalpha() for char in text)


def looks_like_ek2(lines: list[str]) -> bool:
    """Whether a text file that is no CSV reads as an Ek-2 list (a caption, a label or an
    IMEI line among its first lines)."""
    seen = [line.strip() for line in lines if line.strip()][:_SNIFF_LINES]
    return any(
        _is_caption(line)
        or _label(line) is not None
        or (not _has_letters(line) and sum(c.isdigit() for c in line) >= _MIN_DIGITS_OF_IMEI_LINE)
        for line in seen
    )


def _label(line: str) -> tuple[str, str] | None:
    parts = _LABEL_SEPARATOR.split(line, maxsplit=1)
    if len(parts) != 2:
        return None
    key = header_key(parts[0])
    return (key, parts[1].strip()) if key in _KNOWN_LABELS else None


def _split_brand_model(text: str) -> tuple[str | None, str | None, str | None]:
    """(firm, brand, model) of "<firm>, <BRAND> <MODEL>" or "<firm>, <BRAND>, <MODEL>"."""
    parts = [part.strip() for part in text.split(",")]
    last_words = parts[-1].split()
    if len(parts) >= 3 and len(last_words) == 1:
        return ", ".join(parts[:-2]) or None, parts[-2] or None, parts[-1]
    firm = ", ".join(parts[:-1]) or None
    if not last_words:
        return firm, None, None
    return firm, last_words[0], " ".join(last_words[1:]) or None


def _split_imeis(text: str) -> list[str]:
    parts = [part for part in _IMEI_LIST_SEPARATORS.split(text) if part.strip()]
    if len(parts) == 1:
        tokens = text.split()
        if len(tokens) > 1 and all(_is_whole_imei(token) for token in tokens):
            return tokens
    return parts


def _is_whole_imei(token: str) -> bool:
    cleaned = clean_imei(token)
    return cleaned.ok and len(cleaned.text) in _WHOLE_IMEI_LENGTHS


class Ek2Reader:
    """Reads the lines of an Ek-2 file into device rows; ``blocks`` fills as it goes."""

    def __init__(self, collector: IssueCollector) -> None:
        self.blocks: list[Ek2Block] = []
        self._collector = collector
        self._firm: str | None = None
        self._brand: str | None = None
        self._model: str | None = None
        self._date: date | None = None
        self._header_line = 0
        self._block: Ek2Block | None = None

    def read(self, lines: Iterable[str]) -> Iterator[DeviceRow]:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or _is_caption(line):
                continue
            labelled = _label(line)
            if labelled is not None:
                key, value = labelled
                if key in _IMEI_LABELS:
                    yield from self._device(number, value)
                else:
                    self._labelled(number, key, value)
            elif (moment := parse_date(line)) is not None:
                self._date = moment
            elif not _has_letters(line):
                yield from self._device(number, line)
            elif "," in line and _has_letters(line.rsplit(",", 1)[1]):
                self._brand_model(number, *_split_brand_model(line))
            elif self._brand and sum(c.isdigit() for c in line) >= _MIN_DIGITS_OF_IMEI_LINE:
                yield from self._device(number, line)  # a mistyped IMEI: reported precisely
            else:
                self._collector.add(
                    make_issue(IssueCode.UNRECOGNISED_LINE, number, value=line[:40])
                )
        self._report_empty_block()

    def _labelled(self, number: int, key: str, value: str) -> None:
        if key in _FIRM_LABELS:
            self._firm = " ".join(value.split()) or None
        elif key in _DATE_LABELS:
            self._date = parse_date(value)
            if self._date is None:
                self._collector.add(make_issue(IssueCode.BAD_DATE, number, value=value[:40]))
        elif key == "MARKA":
            self._start_header(number)
            self._brand = normalise_name(value) or None
        elif key == "MODEL":
            self._start_header(number)
            self._model = normalise_name(value) or None
        else:  # "MARKA MODEL: …", "FİRMA ADI, MARKA MODEL: …"
            self._brand_model(number, *_split_brand_model(value))

    def _start_header(self, number: int) -> None:
        """A brand or model line: after IMEIs it opens a new block."""
        if self._block is not None:
            self._block = None
            self._brand = self._model = None
            self._header_line = number
        elif not self._header_line:
            self._header_line = number

    def _brand_model(
        self, number: int, firm: str | None, brand: str | None, model: str | None
    ) -> None:
        self._report_empty_block()
        self._start_header(number)
        self._header_line = number
        if firm:
            self._firm = " ".join(firm.split())
        self._brand = normalise_name(brand) or None
        self._model = normalise_name(model) or None

    def _report_empty_block(self) -> None:
        """A brand/model line with no IMEI after it."""
        if self._block is None and self._header_line and (self._brand or self._model):
            self._collector.add(make_issue(IssueCode.MISSING_IMEI, self._header_line))

    def _device(self, number: int, text: str) -> Iterator[DeviceRow]:
        refused, imeis, notes = self._imeis(number, _split_imeis(text))
        if not refused and not imeis:
            return  # separators only ("-", ";;"): a blank line
        if not self._brand or not self._model:
            raise DeviceFileError.of(DeviceFileErrorCode.BRAND_MODEL_LINE_MISSING, row=number)
        block = self._block
        if block is None:
            block = Ek2Block(self._header_line, self._firm, self._brand, self._model, self._date)
            self._block = block
            self.blocks.append(block)
        self._collector.count_row(number)
        if refused is not None:
            self._collector.add(refused)
            return
        block.device_count += 1
        warnings = tuple(note.issue for note in notes)
        yield self._collector.accept(
            DeviceRow(number, self._brand, self._model, tuple(imeis), warnings, tuple(notes))
        )

    def _imeis(
        self, number: int, parts: list[str]
    ) -> tuple[FileIssue | None, list[str], list[ImeiNote]]:
        """(why the line is refused, the IMEIs, why some of them cannot be IMEIs)."""
        if len(parts) > MAX_IMEIS_PER_DEVICE:
            issue = make_issue(IssueCode.TOO_MANY_IMEIS, number, limit=MAX_IMEIS_PER_DEVICE)
            return issue, [], []
        imeis: list[str] = []
        notes: list[ImeiNote] = []
        for position, part in enumerate(parts, start=1):
            cleaned = clean_imei(part)
            if cleaned.problem is ImeiTextProblem.EMPTY:
                continue
            if cleaned.problem is not None:
                issue = imei_cell_issue(cleaned, number, None, f"IMEI{position}")
                notes.append(ImeiNote(len(imeis), issue))
            imeis.append(imei_slot(cleaned.text))
        return None, imeis, notes
