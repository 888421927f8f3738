"""The Excel template firms download, fill in and upload (guide §3: "IMEI Bildirim Şablonu")."""

from __future__ import annotations

import io
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from resolvers.device_files.headers import DEVICE_COLUMNS, IMEI_COLUMNS
from resolvers.device_files.limits import DEFAULT_LIMITS

TEMPLATE_SHEET: Final = "IMEI Listesi"
INSTRUCTIONS_SHEET: Final = "Açıklamalar"
TEXT_FORMAT: Final = "@"
# The whole columns carry the text format (what Excel itself writes for "format column as
# text"); the first rows also carry it cell by cell for tools that ignore column styles.
FORMATTED_ROWS: Final = 5_000
_LAST_EXCEL_ROW: Final = 1_048_576
_WIDTHS: Final = {"MARKA": 18, "MODEL": 22}
_IMEI_WIDTH: Final = 20
_HEADER_FILL: Final = PatternFill("solid", start_color="D9E1F2")


def _max_devices_text() -> str:
    return f"{DEFAULT_LIMITS.max_device_rows:,}".replace(",", ".")  # 1.000.000


INSTRUCTIONS: Final[tuple[str, ...]] = (
    "IMEI Bildirim Şablonu — Açıklamalar",
    "",
    "1. «IMEI Listesi» sayfasında her satıra bir cihaz yazın. Başlık satırını (MARKA, MODEL, "
    "IMEI1, IMEI2, IMEI3, IMEI4) değiştirmeyin ve silmeyin.",
    "2. Birden fazla SIM kartlı (çok IMEI'li) cihazlarda cihazın tüm IMEI numaralarını IMEI1, "
    "IMEI2, IMEI3 ve IMEI4 sütunlarına sırayla yazın.",
    "3. Tek IMEI'li cihazlarda yalnızca IMEI1 sütununu doldurun; IMEI2, IMEI3 ve IMEI4 "
    "sütunlarını boş bırakın.",
    "4. MARKA ve MODEL sütunlarını cihazın CE belgesinde yazdığı şekilde doldurun. Örnek: "
    "Apple iPhone 12 için MARKA: APPLE, MODEL: A2403; Samsung Galaxy S7 Edge için MARKA: "
    "SAMSUNG, MODEL: SM-G9359.",
    "5. IMEI numaralarını 15 hane olarak, boşluk veya tire koymadan yazın. IMEI sütunları metin "
    "biçimindedir; sayı biçimine çevirmeyin: sayı olarak kaydedilen IMEI'lerin baştaki sıfırları "
    "kaybolur, uzun numaralar bozulabilir (ör. 3,56938E+14).",
    "6. Başka bir dosyadan kopyalarken «Yalnızca Değerleri Yapıştır» seçeneğini kullanın; böylece "
    "hücreler metin biçiminde kalır.",
    "7. Boş satırlar dikkate alınmaz. Aynı IMEI'yi listede birden fazla kez yazmayın.",
    f"8. Dosyayı .xlsx (Excel Çalışma Kitabı) olarak kaydedip yükleyin. Bir dosyada en fazla "
    f"{_max_devices_text()} cihaz bulunabilir.",
)


def _device_sheet(workbook: Workbook) -> None:
    sheet = workbook.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = TEMPLATE_SHEET
    sheet.append(list(DEVICE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for index, name in enumerate(DEVICE_COLUMNS, start=1):
        column = sheet.column_dimensions[get_column_letter(index)]
        column.width = _WIDTHS.get(name, _IMEI_WIDTH)
        column.number_format = TEXT_FORMAT
    for row in sheet.iter_rows(min_row=2, max_row=FORMATTED_ROWS + 1, max_col=len(DEVICE_COLUMNS)):
        for cell in row:
            cell.number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"

    first = get_column_letter(DEVICE_COLUMNS.index(IMEI_COLUMNS[0].value) + 1)
    last = get_column_letter(DEVICE_COLUMNS.index(IMEI_COLUMNS[-1].value) + 1)
    fifteen_digits = DataValidation(
        type="textLength",
        operator="equal",
        formula1="15",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="IMEI 15 hane olmalıdır",
        error="IMEI numarasını boşluk ve tire olmadan, 15 hane olarak yazın.",
        showInputMessage=True,
        promptTitle="IMEI",
        prompt="15 haneli IMEI numarası",
    )
    fifteen_digits.add(f"{first}2:{last}{_LAST_EXCEL_ROW}")
    sheet.add_data_validation(fifteen_digits)


def _instructions_sheet(workbook: Workbook) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    sheet.column_dimensions["A"].width = 110
    for line in INSTRUCTIONS:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    for (cell,) in sheet.iter_rows(min_row=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def build_template_xlsx() -> bytes:
    """The template: "IMEI Listesi" (header, text-formatted columns, frozen header) and
    "Açıklamalar" (how to fill it in)."""
    workbook = Workbook()
    _device_sheet(workbook)
    _instructions_sheet(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
