"""Problems found in single rows of a device list, with their Turkish and English messages.

Two kinds. Errors (missing brand/model/IMEI, too many IMEIs, unreadable names) keep the row
back and refuse the list. Everything else is handed on, marked: an IMEI cell that cannot be
an IMEI travels with its cell text and becomes the device's INVALID_IMEI reason (the rest of
the list is still read and checked); a numeric cell that lost its leading zeros is settled
against the TAC registry at upload (resolvers/applications/readings.py). Registry checks —
IMEI validity, duplicates, TACs — are the analysis' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class IssueCode(StrEnum):
    # Errors: the row is not handed on.
    MISSING_BRAND = "MISSING_BRAND"
    MISSING_MODEL = "MISSING_MODEL"
    MISSING_IMEI = "MISSING_IMEI"
    TOO_MANY_IMEIS = "TOO_MANY_IMEIS"
    NAME_TOO_LONG = "NAME_TOO_LONG"
    NAME_NOT_TEXT = "NAME_NOT_TEXT"
    UNRECOGNISED_LINE = "UNRECOGNISED_LINE"
    BAD_DATE = "BAD_DATE"
    # The device is handed on and fails INVALID_IMEI with this cell and reason.
    IMEI_NOT_DIGITS = "IMEI_NOT_DIGITS"
    IMEI_SCIENTIFIC_NOTATION = "IMEI_SCIENTIFIC_NOTATION"
    IMEI_NOT_WHOLE_NUMBER = "IMEI_NOT_WHOLE_NUMBER"
    IMEI_PRECISION_LOST = "IMEI_PRECISION_LOST"
    IMEI_UNSUPPORTED_VALUE = "IMEI_UNSUPPORTED_VALUE"
    LEADING_ZERO_NO_READING = "LEADING_ZERO_NO_READING"
    LEADING_ZERO_AMBIGUOUS = "LEADING_ZERO_AMBIGUOUS"
    # Warnings: the row is handed on as read (or as settled against the registry).
    LEADING_ZERO_RESTORED = "LEADING_ZERO_RESTORED"
    IMEI_GAP = "IMEI_GAP"
    # A paper application's Ek-2 header names another firm or date (`resolvers.workflow.paper`).
    EK2_HEADER_DIFFERS = "EK2_HEADER_DIFFERS"


#: The cell cannot be an IMEI: the device fails INVALID_IMEI with this issue as its reason.
UNREADABLE_IMEI_CODES: Final = frozenset(
    {
        IssueCode.IMEI_NOT_DIGITS,
        IssueCode.IMEI_SCIENTIFIC_NOTATION,
        IssueCode.IMEI_NOT_WHOLE_NUMBER,
        IssueCode.IMEI_PRECISION_LOST,
        IssueCode.IMEI_UNSUPPORTED_VALUE,
        IssueCode.LEADING_ZERO_NO_READING,
        IssueCode.LEADING_ZERO_AMBIGUOUS,
    }
)
#: Issues of rows that are handed on (reported to the firm, never refusing the list).
WARNING_CODES: Final = UNREADABLE_IMEI_CODES | {
    IssueCode.LEADING_ZERO_RESTORED,
    IssueCode.IMEI_GAP,
    IssueCode.EK2_HEADER_DIFFERS,
}

_TEXT_CELL_TR: Final = "Hücreyi metin biçimine alıp"
_TEXT_CELL_EN: Final = "Format the cell as text and"

#: code → (Turkish, English); placeholders are filled by :func:`make_issue`.
_MESSAGES: Final[dict[IssueCode, tuple[str, str]]] = {
    IssueCode.MISSING_BRAND: (
        "Marka boş. Cihazın CE belgesinde yazan markayı girin (ör. APPLE).",
        "The brand is empty. Enter the brand as on the device's CE certificate (e.g. APPLE).",
    ),
    IssueCode.MISSING_MODEL: (
        "Model boş. Cihazın CE belgesinde yazan modeli girin (ör. A2403).",
        "The model is empty. Enter the model as on the device's CE certificate (e.g. A2403).",
    ),
    IssueCode.MISSING_IMEI: (
        "Marka ve model girilmiş ama IMEI yok. En az IMEI1 doldurulmalıdır.",
        "A brand and model are given but no IMEI. At least IMEI1 must be filled in.",
    ),
    IssueCode.IMEI_NOT_DIGITS: (
        "IMEI yalnızca rakamlardan oluşmalıdır; «{value}» okunamadı.",
        'An IMEI consists of digits only; "{value}" could not be read.',
    ),
    IssueCode.IMEI_SCIENTIFIC_NOTATION: (
        "IMEI bilimsel gösterimle yazılmış («{value}»); Excel son haneleri silmiş olabilir. "
        f"{_TEXT_CELL_TR} IMEI'yi 15 hane olarak yeniden yazın.",
        'The IMEI is in scientific notation ("{value}"); Excel may have dropped its last '
        f"digits. {_TEXT_CELL_EN} type the 15 digits again.",
    ),
    IssueCode.IMEI_NOT_WHOLE_NUMBER: (
        "IMEI hücresinde ondalıklı bir sayı var ({value}); IMEI 15 haneli bir tam sayıdır.",
        "The IMEI cell holds a fractional number ({value}); an IMEI is 15 whole digits.",
    ),
    IssueCode.IMEI_PRECISION_LOST: (
        "IMEI hücresindeki sayı ({value}) Excel'in tam saklayabileceğinden büyük; son haneleri "
        f"değişmiş olabilir. {_TEXT_CELL_TR} IMEI'yi yeniden yazın.",
        "The number in the IMEI cell ({value}) is larger than Excel stores exactly; its last "
        f"digits may have changed. {_TEXT_CELL_EN} type the IMEI again.",
    ),
    IssueCode.IMEI_UNSUPPORTED_VALUE: (
        "IMEI hücresinde tarih veya doğru/yanlış değeri var («{value}»). "
        f"{_TEXT_CELL_TR} IMEI'yi yeniden yazın.",
        'The IMEI cell holds a date or a true/false value ("{value}"). '
        f"{_TEXT_CELL_EN} type the IMEI again.",
    ),
    IssueCode.TOO_MANY_IMEIS: (
        "Bir cihaz için en fazla {limit} IMEI girilebilir; bu sütundaki değer kabul edilmedi.",
        "A device has at most {limit} IMEIs; the value in this column was not accepted.",
    ),
    IssueCode.NAME_TOO_LONG: (
        "{header} en fazla {limit} karakter olabilir; {length} karakter girilmiş.",
        "{header} may be at most {limit} characters long; {length} were entered.",
    ),
    IssueCode.NAME_NOT_TEXT: (
        "{header} hücresinde tarih veya doğru/yanlış değeri var («{value}»); Excel yazılanı "
        f"dönüştürmüş olabilir. {_TEXT_CELL_TR} yeniden yazın.",
        '{header} holds a date or a true/false value ("{value}"); Excel may have converted '
        f"what was typed. {_TEXT_CELL_EN} type it again.",
    ),
    IssueCode.UNRECOGNISED_LINE: (
        "Satır anlaşılamadı («{value}»). Başlık satırlarından sonra her satırda bir cihazın "
        "IMEI numaraları bulunmalıdır.",
        'The line could not be understood ("{value}"). After the header lines each line '
        "must hold one device's IMEI numbers.",
    ),
    IssueCode.BAD_DATE: (
        "İthalat tarihi okunamadı («{value}»); GG.AA.YYYY biçiminde yazın.",
        'The import date could not be read ("{value}"); write it as DD.MM.YYYY.',
    ),
    IssueCode.LEADING_ZERO_RESTORED: (
        "IMEI hücresi sayı olarak kaydedilmiş ve {length} haneli kalmış ({value}); baştaki "
        "sıfır kaybolmuş. Beyan edilen {brand} {model} modelinin kayıtlı TAC'ına ({tac}) uyan "
        "tek okuma {imei} olarak alındı. {_text_cell_tr} IMEI'yi 15 hane olarak yazın.",
        "The IMEI cell was saved as a number and has {length} digits ({value}); its leading "
        "zero was lost. The one reading that fits a registered TAC ({tac}) of the declared "
        "{brand} {model} was taken: {imei}. {_text_cell_en} type the 15 digits.",
    ),
    IssueCode.LEADING_ZERO_NO_READING: (
        "IMEI hücresi sayı olarak kaydedilmiş ve {length} haneli kalmış ({value}); baştaki "
        "sıfır kaybolmuş olabilir, ama hiçbir okuması ({readings}) beyan edilen {brand} {model} "
        "modelinin kayıtlı bir TAC'ına ait geçerli bir IMEI değil. {_text_cell_tr} IMEI'yi 15 "
        "hane olarak yazın.",
        "The IMEI cell was saved as a number and has {length} digits ({value}); its leading "
        "zero may have been lost, but no reading of it ({readings}) is a valid IMEI of a "
        "registered TAC of the declared {brand} {model}. {_text_cell_en} type the 15 digits.",
    ),
    IssueCode.LEADING_ZERO_AMBIGUOUS: (
        "IMEI hücresi sayı olarak kaydedilmiş ve {length} haneli kalmış ({value}); birden fazla "
        "okuması ({readings}) beyan edilen {brand} {model} modelinin kayıtlı bir TAC'ına uyuyor, "
        "hangisi olduğu bilinemiyor. {_text_cell_tr} IMEI'yi 15 hane olarak yazın.",
        "The IMEI cell was saved as a number and has {length} digits ({value}); more than one "
        "reading of it ({readings}) fits a registered TAC of the declared {brand} {model}, so "
        "which one is meant cannot be told. {_text_cell_en} type the 15 digits.",
    ),
    IssueCode.EK2_HEADER_DIFFERS: (
        "Ek-2 başlığı başvuruyla uyuşmuyor: {detail}",
        "The Ek-2 header does not match the application: {detail}",
    ),
    IssueCode.IMEI_GAP: (
        "{header} boş bırakılmış ama sonraki IMEI sütunları dolu; IMEI'ler sırayla alındı.",
        "{header} is empty but later IMEI columns are filled; the IMEIs were taken in order.",
    ),
}


@dataclass(frozen=True, slots=True)
class FileIssue:
    """One problem in one place of the file, as the user sees it.

    ``row`` is the 1-based row (or line) number as shown by Excel or a text editor, header
    row included; ``column`` the column letter and ``header`` the column's header as written
    in the file (both None for a whole text line).
    """

    row: int | None
    column: str | None
    header: str | None
    code: IssueCode
    message_tr: str
    message_en: str

    @property
    def is_warning(self) -> bool:
        return self.code in WARNING_CODES


def make_issue(
    code: IssueCode,
    row: int | None,
    column: str | None = None,
    header: str | None = None,
    **params: object,
) -> FileIssue:
    tr, en = _MESSAGES[code]
    values = {
        "header": header or "",
        "_text_cell_tr": _TEXT_CELL_TR,
        "_text_cell_en": _TEXT_CELL_EN,
        **params,
    }
    return FileIssue(row, column, header, code, tr.format(**values), en.format(**values))
