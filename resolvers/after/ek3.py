"""Ek-3: the communiqué's text format of changed IMEIs (art. 16(2)), read and written. Pure.

The communiqué shows the layout with captions where the values go::

    Ek-3
    FİRMA ADI, MARKA, MODEL
    ESKİ IMEI NUMARASI YENİ IMEI NUMARASI
    123456789012345 987654321054321

Reading (`read_ek3`). Lines are trimmed; every line keeps its number in the file, so a
problem names the line people see in their editor. Skipped: blank lines and text lines —
with letters and fewer than 8 digits (the title, the captions, notes), or with letters and
at least two commas (the `FİRMA ADI, MARKA, MODEL` header, whatever digits the firm's name
has). The header is informational: the held record of the new IMEI says what the device
is. Every other line is a pair: two IMEIs separated by `;` `,` `|` or a tab, or
by spaces; inside an IMEI, hyphens and dots are allowed as in spreadsheets. A line that does
not split into exactly two values is UNRECOGNISED_LINE; whether the values are valid IMEIs
is the checks' call (`resolvers.after.replacements.check_pairs`).

Writing (`header_lines`, `pair_line`): per brand/model of the new IMEIs a header line, the
caption and the pairs — the same layout, so an exported file reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from models.after import ReplacementProblem
from models.imei import clean_imei

CAPTION: Final = "ESKİ IMEI NUMARASI YENİ IMEI NUMARASI"
# A line with letters and at least this many digits is taken for a mistyped pair.
_MIN_DIGITS_OF_PAIR_LINE: Final = 8
_HEADER_COMMAS: Final = 2
_PAIR_SEPARATORS: Final = re.compile(r"[;,|\t]")
_SHOWN: Final = 64


@dataclass(frozen=True, slots=True)
class Ek3Line:
    line_number: int
    old_imei: str = ""
    new_imei: str = ""
    text: str = ""  # the line itself, when it is no pair
    problem: ReplacementProblem | None = None


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows Turkish (what older tools save)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1254", errors="replace")


def _is_text_line(line: str) -> bool:
    if not any(char.isalpha() for char in line):
        return False
    few_digits = sum(char.isdigit() for char in line) < _MIN_DIGITS_OF_PAIR_LINE
    return few_digits or line.count(",") >= _HEADER_COMMAS


def _values(line: str) -> list[str]:
    parts = [part.strip() for part in _PAIR_SEPARATORS.split(line) if part.strip()]
    return parts if len(parts) > 1 else line.split()


def _cleaned(value: str) -> str:
    cleaned = clean_imei(value)
    return cleaned.text if cleaned.ok else value[:32]


def read_ek3(text: str) -> list[Ek3Line]:
    """The pair lines of an Ek-3 file, in order (skipped lines are not returned)."""
    lines: list[Ek3Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or _is_text_line(line):
            continue
        values = _values(line)
        if len(values) != 2:
            lines.append(
                Ek3Line(number, text=line[:_SHOWN], problem=ReplacementProblem.UNRECOGNISED_LINE)
            )
            continue
        lines.append(Ek3Line(number, _cleaned(values[0]), _cleaned(values[1])))
    return lines


def header_lines(firm_name: str, brand: str, model: str) -> list[str]:
    """A block's first lines: `FİRMA ADI, MARKA, MODEL` and the caption."""
    return [f"{firm_name}, {brand}, {model}", CAPTION]


def pair_line(old: str, new: str) -> str:
    return f"{old} {new}"
