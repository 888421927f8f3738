"""Whole-file refusals: the file as a whole cannot be read as a device list."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class DeviceFileErrorCode(StrEnum):
    EMPTY_FILE = "EMPTY_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    NOT_XLSX = "NOT_XLSX"
    LEGACY_OR_ENCRYPTED_EXCEL = "LEGACY_OR_ENCRYPTED_EXCEL"
    CORRUPT_XLSX = "CORRUPT_XLSX"
    XLSX_TOO_MANY_PARTS = "XLSX_TOO_MANY_PARTS"
    XLSX_TOO_LARGE_UNCOMPRESSED = "XLSX_TOO_LARGE_UNCOMPRESSED"
    XLSX_SUSPICIOUS_COMPRESSION = "XLSX_SUSPICIOUS_COMPRESSION"
    UNREADABLE_TEXT = "UNREADABLE_TEXT"
    HEADER_NOT_FOUND = "HEADER_NOT_FOUND"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    DUPLICATE_COLUMNS = "DUPLICATE_COLUMNS"
    BRAND_MODEL_LINE_MISSING = "BRAND_MODEL_LINE_MISSING"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    NO_DEVICE_ROWS = "NO_DEVICE_ROWS"


_SAVE_AS_TR: Final = "Dosyayı Excel'de açıp .xlsx (Excel Çalışma Kitabı) olarak kaydedin"
_SAVE_AS_EN: Final = "Open the file in Excel and save it as .xlsx (Excel Workbook)"

#: code → (Turkish, English); placeholders are filled by :meth:`DeviceFileError.of`.
_MESSAGES: Final[dict[DeviceFileErrorCode, tuple[str, str]]] = {
    DeviceFileErrorCode.EMPTY_FILE: ("Dosya boş.", "The file is empty."),
    DeviceFileErrorCode.FILE_TOO_LARGE: (
        "Dosya çok büyük: en fazla {limit_mb} MB yüklenebilir.",
        "The file is too large: at most {limit_mb} MB can be uploaded.",
    ),
    DeviceFileErrorCode.NOT_XLSX: (
        "Dosya bir Excel .xlsx dosyası değil (CSV veya Ek-2 metin dosyası da değil). "
        "Kurumun IMEI şablonunu kullanın.",
        "The file is not an Excel .xlsx file (nor a CSV or Ek-2 text file). "
        "Use the regulator's IMEI template.",
    ),
    DeviceFileErrorCode.LEGACY_OR_ENCRYPTED_EXCEL: (
        f"Dosya eski .xls biçiminde veya parola korumalı. {_SAVE_AS_TR}, parola koymayın.",
        f"The file is in the old .xls format or password-protected. {_SAVE_AS_EN}, "
        "without a password.",
    ),
    DeviceFileErrorCode.CORRUPT_XLSX: (
        f"Excel dosyası bozuk veya eksik yüklenmiş, okunamadı. {_SAVE_AS_TR} ve yeniden yükleyin.",
        f"The Excel file is damaged or was uploaded incompletely. {_SAVE_AS_EN} and upload it "
        "again.",
    ),
    DeviceFileErrorCode.XLSX_TOO_MANY_PARTS: (
        "Excel dosyası olağan dışı sayıda parça içeriyor ({count}); güvenlik nedeniyle açılmadı.",
        "The Excel file holds an unusual number of parts ({count}); it was not opened, for safety.",
    ),
    DeviceFileErrorCode.XLSX_TOO_LARGE_UNCOMPRESSED: (
        "Excel dosyası açıldığında {size_mb} MB tutuyor (sınır {limit_mb} MB); güvenlik "
        "nedeniyle açılmadı.",
        "The Excel file expands to {size_mb} MB (limit {limit_mb} MB); it was not opened, "
        "for safety.",
    ),
    DeviceFileErrorCode.XLSX_SUSPICIOUS_COMPRESSION: (
        "Excel dosyasındaki «{member}» parçası olağan dışı sıkıştırılmış ({ratio}:1); "
        "güvenlik nedeniyle açılmadı.",
        'The part "{member}" of the Excel file is unusually compressed ({ratio}:1); it was '
        "not opened, for safety.",
    ),
    DeviceFileErrorCode.UNREADABLE_TEXT: (
        "Metin dosyası okunamadı ({row}. satır).",
        "The text file could not be read (line {row}).",
    ),
    DeviceFileErrorCode.HEADER_NOT_FOUND: (
        "İlk {rows} satırda başlık satırı bulunamadı. Başlıklar şunlar olmalıdır: {expected}.",
        "No header row in the first {rows} rows. The headers must be: {expected}.",
    ),
    DeviceFileErrorCode.MISSING_COLUMNS: (
        "{row}. satırdaki başlıkta şu sütunlar eksik: {missing}.",
        "The header in row {row} lacks these columns: {missing}.",
    ),
    DeviceFileErrorCode.DUPLICATE_COLUMNS: (
        "{row}. satırdaki başlıkta {name} sütunu birden fazla kez var ({columns} sütunları).",
        "The header in row {row} has the column {name} more than once (columns {columns}).",
    ),
    DeviceFileErrorCode.BRAND_MODEL_LINE_MISSING: (
        "{row}. satırdaki IMEI'lerden önce marka ve model bulunamadı. Ek-2 biçiminde IMEI "
        "listesinden önce «FİRMA ADI, MARKA MODEL» satırı bulunmalıdır.",
        "No brand and model before the IMEIs on line {row}. In the Ek-2 format a "
        '"FIRM NAME, BRAND MODEL" line must come before the IMEI list.',
    ),
    DeviceFileErrorCode.TOO_MANY_ROWS: (
        "Dosyada {limit} cihazdan fazlası var; listeyi bölerek ayrı başvurularla yükleyin.",
        "The file holds more than {limit} devices; split the list over separate applications.",
    ),
    DeviceFileErrorCode.NO_DEVICE_ROWS: (
        "Dosyada cihaz satırı yok.",
        "The file holds no device rows.",
    ),
}


class DeviceFileError(Exception):
    """The whole file is refused; ``row``/``column`` point at the cause when there is one."""

    def __init__(
        self,
        code: DeviceFileErrorCode,
        message_tr: str,
        message_en: str,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_tr = message_tr
        self.message_en = message_en
        self.row = row
        self.column = column

    @classmethod
    def of(
        cls,
        code: DeviceFileErrorCode,
        row: int | None = None,
        column: str | None = None,
        **params: object,
    ) -> DeviceFileError:
        tr, en = _MESSAGES[code]
        values = {"row": row, **params}
        return cls(code, tr.format(**values), en.format(**values), row=row, column=column)

    def __repr__(self) -> str:
        return f"DeviceFileError({self.code.value!r}, row={self.row!r}, column={self.column!r})"
