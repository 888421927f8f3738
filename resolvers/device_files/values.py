"""Single cell values → what a device row holds (brand/model text, IMEI digits, issues)."""

from __future__ import annotations

from typing import Final

from models.imei import CleanedImei, ImeiTextProblem
from models.names import normalise_brand_model
from resolvers.device_files.issues import FileIssue, IssueCode, make_issue

_IMEI_PROBLEM_CODES: Final = {
    ImeiTextProblem.NOT_DIGITS: IssueCode.IMEI_NOT_DIGITS,
    ImeiTextProblem.SCIENTIFIC_NOTATION: IssueCode.IMEI_SCIENTIFIC_NOTATION,
    ImeiTextProblem.NOT_WHOLE_NUMBER: IssueCode.IMEI_NOT_WHOLE_NUMBER,
    ImeiTextProblem.PRECISION_LOST: IssueCode.IMEI_PRECISION_LOST,
    ImeiTextProblem.UNSUPPORTED_VALUE: IssueCode.IMEI_UNSUPPORTED_VALUE,
}


def is_blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, str) and value.isspace())


def normalise_name(value: object) -> str | None:
    """Brand or model as stored: trimmed, inner whitespace collapsed, upper-cased the
    Turkish way; "" when empty.

    None for dates, times and booleans: Excel converted what was typed (a model like "3-10"
    becomes a date), so the text is gone.
    """
    if isinstance(value, str):
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        # A model typed as 3310 is stored by Excel as 3310.0.
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        return None
    return normalise_brand_model(text)


def imei_cell_issue(
    cleaned: CleanedImei, row: int, column: str | None, header: str | None
) -> FileIssue:
    """The issue for an IMEI value that could not be cleaned (``cleaned.problem`` set)."""
    assert cleaned.problem is not None and cleaned.problem is not ImeiTextProblem.EMPTY
    return make_issue(_IMEI_PROBLEM_CODES[cleaned.problem], row, column, header, value=cleaned.text)


#: What a device row keeps of an IMEI cell (the device tables' IMEI columns hold 32).
IMEI_SLOT_LENGTH: Final = 32


def imei_slot(text: str) -> str:
    """An IMEI cell's text as the device keeps it; anything this long is no IMEI anyway."""
    return text[:IMEI_SLOT_LENGTH]
