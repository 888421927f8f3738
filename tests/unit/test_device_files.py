"""A firm's device list as it really arrives: messy Excel sheets, Turkish CSVs, Ek-2 text from
the paper channel, hostile zips — and the template and exports we hand out."""

from __future__ import annotations

import datetime
import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from models.imei import luhn_check_digit
from resolvers.device_files import (
    DEVICE_COLUMNS,
    INSTRUCTIONS_SHEET,
    TEMPLATE_SHEET,
    DeviceColumn,
    DeviceFile,
    DeviceFileError,
    DeviceFileErrorCode,
    DeviceFileFormat,
    DeviceFileLimits,
    DeviceRow,
    FileIssue,
    IssueCode,
    ShortNumber,
    build_template_xlsx,
    device_row_cells,
    read_device_file,
    write_device_rows_xlsx,
)
from resolvers.device_files.errors import _MESSAGES as ERROR_MESSAGES
from resolvers.device_files.headers import classify_header
from resolvers.device_files.issues import make_issue

MIB = 1024 * 1024


def imei(serial: int, prefix: str = "35") -> str:
    payload = f"{prefix}{serial:0{14 - len(prefix)}d}"
    return payload + luhn_check_digit(payload)


def xlsx(
    rows: Iterable[Sequence[object]],
    *,
    cells: dict[str, object] | None = None,
    title: str = "Sayfa1",
) -> bytes:
    """A workbook as a firm would save it: rows from A1, then single cells placed anywhere."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for coordinate, value in (cells or {}).items():
        sheet[coordinate] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_all(source: Any, **kwargs: Any) -> tuple[DeviceFile, list[DeviceRow]]:
    device_file = read_device_file(source, **kwargs)
    with device_file:
        return device_file, list(device_file.rows)


def refusal(source: Any, **kwargs: Any) -> DeviceFileError:
    with pytest.raises(DeviceFileError) as caught:
        read_all(source, **kwargs)
    return caught.value


def only_issue(device_file: DeviceFile) -> FileIssue:
    assert len(device_file.issues) == 1, device_file.issues
    return device_file.issues[0]


HEADER = list(DEVICE_COLUMNS)


class TestMessyExcel:
    def test_a_messy_sheet_is_read_as_the_firm_meant_it(self) -> None:
        single, dual_a, dual_b, zero_tac = imei(1), imei(2), imei(3), imei(4, prefix="01")
        data = xlsx(
            [
                ["ABC İletişim — IMEI listesi"],  # a title above the header
                [],
                ["Açıklama", "ımeı2", "marka", "İMEİ 1", "Model", "IMEI3", "imei_4"],
                ["ilk parti", None, "  apple ", single, "a2403"],
                [],
                [
                    None,
                    f" {dual_b[:2]}-{dual_b[2:8]}-{dual_b[8:14]}-{dual_b[14]} ",
                    "samsung",
                    int(dual_a),
                    "galaxy   s7\u00a0edge",
                ],
                [None, None, "Xiaomi", float(int(zero_tac)), "2201117TG"],
            ]
        )
        device_file, rows = read_all(data)

        assert device_file.format is DeviceFileFormat.XLSX
        assert device_file.header_row == 3
        assert device_file.columns[DeviceColumn.IMEI1].letter == "D"
        assert device_file.columns[DeviceColumn.IMEI1].header == "İMEİ 1"
        assert [row.row_number for row in rows] == [4, 6, 7]  # Excel's own numbers
        assert rows[0] == DeviceRow(4, "APPLE", "A2403", (single,))
        assert rows[1] == DeviceRow(6, "SAMSUNG", "GALAXY S7 EDGE", (dual_a, dual_b))
        # Turkish upper-casing: i → İ.
        assert rows[2].brand == "XİAOMİ"
        assert device_file.issues == []

    def test_a_numeric_cell_that_lost_its_leading_zero_is_passed_on_for_the_registry(
        self,
    ) -> None:
        zero_tac = imei(4, prefix="01")
        device_file, rows = read_all(
            xlsx([HEADER, ["NOKIA", "TA-1203", int(zero_tac), zero_tac[1:]]])
        )
        (row,) = rows
        # Kept as read: the upload settles it against the TAC registry. The text cell of
        # 14 digits was typed so: it is no number that lost a zero.
        assert row.imeis == (zero_tac[1:], zero_tac[1:])
        assert row.short_numbers == (ShortNumber(0, "C", "IMEI1"),)
        assert row.warnings == () and device_file.issues == []

    def test_a_full_length_numeric_cell_is_not_warned_about(self) -> None:
        _, rows = read_all(xlsx([HEADER, ["APPLE", "A2403", int(imei(9))]]))
        assert rows[0].warnings == ()

    def test_row_numbers_and_column_letters_follow_excel_when_the_list_starts_lower_right(
        self,
    ) -> None:
        data = xlsx(
            [],
            cells={
                "B3": "MARKA",
                "C3": "MODEL",
                "D3": "IMEI1",
                "B4": "APPLE",
                "C4": "A2403",
                "D4": imei(1),
                "B9": "APPLE",
                "C9": "A2403",
                "D9": "35x",
            },
        )
        device_file, rows = read_all(data)
        assert [row.row_number for row in rows] == [4, 9]
        assert rows[1].imeis == ("35x",) and device_file.issues == []
        (note,) = rows[1].notes
        issue = note.issue
        assert (note.position, issue.row, issue.column, issue.header, issue.code) == (
            0,
            9,
            "D",
            "IMEI1",
            IssueCode.IMEI_NOT_DIGITS,
        )

    def test_digits_of_any_length_are_passed_on_for_the_analysis_to_judge(self) -> None:
        _, rows = read_all(xlsx([HEADER, ["APPLE", "A2403", "12345", "1234567890123456789"]]))
        assert rows[0].imeis == ("12345", "1234567890123456789")

    def test_a_model_typed_as_a_number_is_text(self) -> None:
        _, rows = read_all(xlsx([HEADER, ["nokia", 3310, imei(1)]]))
        assert (rows[0].brand, rows[0].model) == ("NOKİA", "3310")

    def test_an_empty_imei_column_between_filled_ones_is_closed_up_with_a_warning(self) -> None:
        _, rows = read_all(xlsx([HEADER, ["APPLE", "A2403", None, imei(2)]]))
        assert rows[0].imeis == (imei(2),)
        (warning,) = rows[0].warnings
        assert (warning.code, warning.column, warning.header) == (IssueCode.IMEI_GAP, "C", "IMEI1")


class TestRowIssues:
    def test_each_broken_row_is_reported_precisely(self) -> None:
        data = xlsx(
            [
                [*HEADER, "IMEI5", "Not"],
                ["APPLE", "A2403", imei(1)],  # 2 fine
                ["APPLE", "A2403"],  # 3 no IMEI
                ["SAMSUNG", "SM-G9359", "35209900176148O"],  # 4 letter O
                [None, "SM-G9359", imei(2)],  # 5 no brand
                ["SAMSUNG", None, imei(3)],  # 6 no model
                ["SAMSUNG", "SM-G9359", 352099001761481.5],  # 7 fraction
                ["SAMSUNG", "SM-G9359", "3,52099E+14"],  # 8 scientific
                ["SAMSUNG", "SM-G9359", datetime.datetime(2024, 3, 15)],  # 9 a date
                [
                    "SAMSUNG",
                    "SM-G9359",
                    imei(4),
                    imei(5),
                    imei(6),
                    imei(7),
                    imei(8),
                ],  # 10 five IMEIs
                ["SAMSUNG", datetime.datetime(2024, 3, 10), imei(9)],  # 11 model became a date
                ["SAMSUNG", "X" * 101, imei(10)],  # 12 model too long
                [None, None, None, None, None, None, None, "only a note"],  # 13 blank for us
            ]
        )
        device_file, rows = read_all(data)
        # Cells that cannot be IMEIs travel with their devices (they fail INVALID_IMEI).
        assert [row.row_number for row in rows] == [2, 4, 7, 8, 9]
        notes = {
            (r.row_number, r.imeis[n.position], n.issue.column, n.issue.code)
            for r in rows
            for n in r.notes
        }
        assert notes == {
            (4, "35209900176148O", "C", IssueCode.IMEI_NOT_DIGITS),
            (7, "352099001761481.5", "C", IssueCode.IMEI_NOT_WHOLE_NUMBER),
            (8, "3,52099E+14", "C", IssueCode.IMEI_SCIENTIFIC_NOTATION),
            (9, "2024-03-15", "C", IssueCode.IMEI_UNSUPPORTED_VALUE),
        }
        found = {(i.row, i.column, i.header, i.code) for i in device_file.issues}
        assert found == {
            (3, "C", "IMEI1", IssueCode.MISSING_IMEI),
            (5, "A", "MARKA", IssueCode.MISSING_BRAND),
            (6, "B", "MODEL", IssueCode.MISSING_MODEL),
            (10, "G", "IMEI5", IssueCode.TOO_MANY_IMEIS),
            (11, "B", "MODEL", IssueCode.NAME_NOT_TEXT),
            (12, "B", "MODEL", IssueCode.NAME_TOO_LONG),
        }
        assert device_file.issue_count == 6 and device_file.device_count == 5
        assert device_file.warning_count == 4

    def test_messages_are_in_turkish_with_its_letters_and_in_english(self) -> None:
        device_file, _ = read_all(xlsx([HEADER, ["APPLE", "A2403", "35209900176148O"]]))
        (issue,) = device_file.warnings
        assert (
            issue.message_tr
            == "IMEI yalnızca rakamlardan oluşmalıdır; «35209900176148O» okunamadı."
        )
        assert (
            issue.message_en
            == 'An IMEI consists of digits only; "35209900176148O" could not be read.'
        )

    def test_every_message_fills_its_placeholders(self) -> None:
        for code in IssueCode:
            issue = make_issue(
                code,
                3,
                "C",
                "IMEI1",
                value="x",
                limit=4,
                length=14,
                readings="r",
                brand="b",
                model="m",
                imei="i",
                tac="t",
                detail="d",
            )
            assert "{" not in issue.message_tr + issue.message_en, code
        for error_code in ERROR_MESSAGES:
            params: dict[str, Any] = dict(
                limit_mb=1,
                count=2,
                size_mb=3,
                member="m",
                ratio=4,
                rows=5,
                expected="e",
                missing="m",
                name="n",
                columns="c",
                limit=6,
            )
            error = DeviceFileError.of(error_code, row=1, **params)
            assert "{" not in error.message_tr + error.message_en, error_code

    def test_only_the_first_issues_are_kept_but_all_are_counted(self) -> None:
        rows = [HEADER] + [["APPLE", None, "yok"] for _ in range(30)]
        device_file, _ = read_all(xlsx(rows), limits=DeviceFileLimits(max_kept_issues=5))
        assert len(device_file.issues) == 5 and device_file.issue_count == 30
        assert len(device_file.warnings) == 0  # a refused row's IMEI is not looked at twice


class TestHeaders:
    @pytest.mark.parametrize(
        ("text", "column"),
        [
            ("marka", DeviceColumn.BRAND),
            ("Marka", DeviceColumn.BRAND),
            ("MARKA", DeviceColumn.BRAND),
            (" model ", DeviceColumn.MODEL),
            ("ımeı1", DeviceColumn.IMEI1),
            ("IMEI 1", DeviceColumn.IMEI1),
            ("İMEİ1", DeviceColumn.IMEI1),
            ("i̇mei̇1", DeviceColumn.IMEI1),  # "İMEİ1".lower(): i + combining dot
            ("Imei-2", DeviceColumn.IMEI2),
            ("imei_3", DeviceColumn.IMEI3),
            ("IMEI NO 4", DeviceColumn.IMEI4),
            ("IMEI", DeviceColumn.IMEI1),
        ],
    )
    def test_header_variants(self, text: str, column: DeviceColumn) -> None:
        assert classify_header(text) is column

    @pytest.mark.parametrize("text", ["Açıklama", "MARKA ADI SOYADI", "IMEI0", "", "SERİ NO"])
    def test_other_headers_are_not_template_columns(self, text: str) -> None:
        assert classify_header(text) is None

    def test_missing_columns_refuse_the_file_naming_them(self) -> None:
        error = refusal(xlsx([["Marka", "IMEI2"], ["APPLE", imei(1)]]))
        assert error.code is DeviceFileErrorCode.MISSING_COLUMNS
        assert error.row == 1
        assert "MODEL, IMEI1" in error.message_tr and "MODEL, IMEI1" in error.message_en

    def test_a_column_given_twice_is_refused(self) -> None:
        error = refusal(
            xlsx([["MARKA", "MODEL", "IMEI", "IMEI1"], ["APPLE", "A2403", imei(1), imei(2)]])
        )
        assert error.code is DeviceFileErrorCode.DUPLICATE_COLUMNS
        assert "C, D" in error.message_tr

    def test_no_header_in_the_first_rows(self) -> None:
        error = refusal(xlsx([["APPLE", "A2403", imei(1)]]))
        assert error.code is DeviceFileErrorCode.HEADER_NOT_FOUND
        assert "MARKA, MODEL, IMEI1" in error.message_tr

    def test_the_header_search_depth_is_a_limit(self) -> None:
        data = xlsx([[f"not {n}"] for n in range(12)] + [HEADER, ["APPLE", "A2403", imei(1)]])
        assert refusal(data).code is DeviceFileErrorCode.HEADER_NOT_FOUND
        _, rows = read_all(data, limits=DeviceFileLimits(header_search_rows=20))
        assert rows[0].row_number == 14

    def test_the_list_may_be_on_a_later_sheet(self) -> None:
        workbook = openpyxl.Workbook()
        notes = workbook.active
        assert notes is not None
        notes.title = "Notlar"
        notes.append(["Bu dosya Mart ithalatı içindir."])
        devices = workbook.create_sheet("Cihazlar")
        devices.append(HEADER)
        devices.append(["APPLE", "A2403", imei(1)])
        out = io.BytesIO()
        workbook.save(out)
        _, rows = read_all(out.getvalue())
        assert rows == [DeviceRow(2, "APPLE", "A2403", (imei(1),))]


def _zip(members: dict[str, bytes | int]) -> bytes:
    """A zip; an int member is that many spaces, streamed so the test stays light."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as member:
                    for _ in range(content // MIB):
                        member.write(b" " * MIB)
            else:
                archive.writestr(name, content)
    return out.getvalue()


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Make the zip lie about a member's uncompressed size (local and central headers)."""
    raw = bytearray(data)
    encoded = name.encode()
    at = raw.find(encoded)
    while at >= 0:
        if raw[at - 30 : at - 26] == b"PK\x03\x04":
            struct.pack_into("<I", raw, at - 30 + 22, size)
        elif raw[at - 46 : at - 42] == b"PK\x01\x02":
            struct.pack_into("<I", raw, at - 46 + 24, size)
        at = raw.find(encoded, at + 1)
    return bytes(raw)


WORKBOOK_PARTS: dict[str, bytes | int] = {
    "[Content_Types].xml": b"<Types/>",
    "xl/workbook.xml": b"<workbook/>",
}


@pytest.fixture
def calamine_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The zip guard must decide from the central directory, before any parsing."""

    class Forbidden:
        @classmethod
        def from_filelike(cls, *args: object) -> None:
            raise AssertionError("parsed before the zip was inspected")

        from_path = from_filelike

    monkeypatch.setattr("resolvers.device_files.xlsx.CalamineWorkbook", Forbidden)


class TestHostileAndWrongFiles:
    def test_a_zip_bomb_member_is_refused_by_its_compression_ratio(
        self, calamine_must_not_run: None
    ) -> None:
        bomb = _zip({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": 64 * MIB})
        assert len(bomb) < MIB  # 64 MB of spaces compress ~1000:1
        error = refusal(bomb, filename="liste.xlsx")
        assert error.code is DeviceFileErrorCode.XLSX_SUSPICIOUS_COMPRESSION
        assert "xl/worksheets/sheet1.xml" in error.message_tr

    def test_the_total_declared_size_is_capped(self, calamine_must_not_run: None) -> None:
        data = _zip({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": b"<worksheet/>"})
        huge = _patch_declared_size(data, "xl/worksheets/sheet1.xml", 2**32 - 1)  # "4 GB"
        error = refusal(huge)
        assert error.code is DeviceFileErrorCode.XLSX_TOO_LARGE_UNCOMPRESSED
        assert "1024 MB" in error.message_tr

    def test_the_uncompressed_cap_is_configurable(self, calamine_must_not_run: None) -> None:
        data = _zip({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": 5 * MIB})
        limits = DeviceFileLimits(max_uncompressed_bytes=4 * MIB)
        assert refusal(data, limits=limits).code is DeviceFileErrorCode.XLSX_TOO_LARGE_UNCOMPRESSED

    def test_a_zip_of_too_many_parts_is_refused(self, calamine_must_not_run: None) -> None:
        parts: dict[str, bytes | int] = {f"xl/media/{n}.bin": b"x" for n in range(1_001)}
        assert (
            refusal(_zip({**WORKBOOK_PARTS, **parts})).code
            is DeviceFileErrorCode.XLSX_TOO_MANY_PARTS
        )

    def test_a_part_that_inflates_past_its_declared_size_is_not_trusted(self) -> None:
        # The guard trusts declared sizes because calamine stops at them: pin that here.
        data = xlsx([HEADER] + [["APPLE", "A2403", imei(n)] for n in range(500)])
        lying = _patch_declared_size(data, "xl/worksheets/sheet1.xml", 100)
        assert refusal(lying).code is DeviceFileErrorCode.CORRUPT_XLSX

    def test_a_truncated_upload_is_a_damaged_excel_file(self) -> None:
        data = xlsx([HEADER, ["APPLE", "A2403", imei(1)]])
        assert refusal(data[: len(data) // 2]).code is DeviceFileErrorCode.CORRUPT_XLSX

    def test_a_word_document_renamed_xlsx_is_not_an_excel_file(self) -> None:
        docx = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
        error = refusal(docx, filename="liste.xlsx")
        assert error.code is DeviceFileErrorCode.NOT_XLSX
        assert "Excel .xlsx dosyası değil" in error.message_tr
        assert "not an Excel .xlsx file" in error.message_en

    @pytest.mark.parametrize(
        "content",
        [
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            b"\xff\xd8\xff\xe0\x00\x10JFIF",
        ],
    )
    def test_other_binary_files_renamed_xlsx_are_refused(self, content: bytes) -> None:
        assert refusal(content, filename="liste.xlsx").code is DeviceFileErrorCode.NOT_XLSX

    def test_plain_text_renamed_xlsx_is_refused_as_not_excel(self) -> None:
        error = refusal("Merhaba, bu bir IMEI listesi değil.\n".encode(), filename="liste.xlsx")
        assert error.code is DeviceFileErrorCode.NOT_XLSX

    def test_old_xls_and_encrypted_workbooks_are_refused_with_advice(self) -> None:
        ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
        error = refusal(ole2, filename="liste.xls")
        assert error.code is DeviceFileErrorCode.LEGACY_OR_ENCRYPTED_EXCEL
        assert ".xlsx (Excel Çalışma Kitabı) olarak kaydedin" in error.message_tr

    def test_an_empty_upload(self) -> None:
        assert refusal(b"").code is DeviceFileErrorCode.EMPTY_FILE

    def test_the_format_comes_from_the_content_not_the_name(self) -> None:
        excel = xlsx([HEADER, ["APPLE", "A2403", imei(1)]])
        device_file, rows = read_all(excel, filename="liste.csv")
        assert device_file.format is DeviceFileFormat.XLSX and len(rows) == 1
        csv_bytes = f"MARKA;MODEL;IMEI1\nAPPLE;A2403;{imei(1)}\n".encode()
        device_file, rows = read_all(csv_bytes, filename="liste.xlsx")
        assert device_file.format is DeviceFileFormat.CSV and len(rows) == 1


class TestLimits:
    def test_file_size_is_checked_for_bytes_paths_and_streams(self, tmp_path: Path) -> None:
        data = xlsx([HEADER, ["APPLE", "A2403", imei(1)]])
        limits = DeviceFileLimits(max_file_bytes=1_000)
        path = tmp_path / "liste.xlsx"
        path.write_bytes(data)

        class Unseekable(io.RawIOBase):
            def __init__(self) -> None:
                self._inner = io.BytesIO(data)

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: Any) -> int:
                chunk = self._inner.read(len(buffer))
                buffer[: len(chunk)] = chunk
                return len(chunk)

        for source in (data, path, io.BytesIO(data), Unseekable()):
            error = refusal(source, limits=limits)
            assert error.code is DeviceFileErrorCode.FILE_TOO_LARGE, source
            assert "MB" in error.message_tr

    def test_paths_and_streams_read_like_bytes(self, tmp_path: Path) -> None:
        data = xlsx([HEADER, ["APPLE", "A2403", imei(1)]])
        path = tmp_path / "liste.xlsx"
        path.write_bytes(data)
        expected = [DeviceRow(2, "APPLE", "A2403", (imei(1),))]
        for source in (data, path, str(path), io.BytesIO(data)):
            assert read_all(source)[1] == expected

    def test_too_many_device_rows_stop_the_read(self) -> None:
        rows = [
            HEADER,
            ["APPLE", "A2403", imei(1)],
            [],
            ["APPLE", "A2403", imei(2)],
            ["APPLE", "A2403", "bad"],
            ["APPLE", "A2403", imei(3)],
        ]
        limits = DeviceFileLimits(max_device_rows=3)
        error = refusal(xlsx(rows), limits=limits)
        assert error.code is DeviceFileErrorCode.TOO_MANY_ROWS
        assert error.row == 6  # the fourth non-empty row; the empty one is not counted
        assert "3 cihazdan fazlası" in error.message_tr

    def test_a_header_without_devices(self) -> None:
        assert refusal(xlsx([HEADER, [], []])).code is DeviceFileErrorCode.NO_DEVICE_ROWS

    def test_rows_are_read_lazily(self) -> None:
        data = xlsx([HEADER, ["APPLE", "A2403", imei(1)], ["APPLE", None, imei(2)]])
        with read_device_file(data) as device_file:
            first = next(device_file.rows)
            assert first.row_number == 2 and device_file.issue_count == 0
            assert list(device_file.rows) == []
            assert device_file.issue_count == 1


class TestCsv:
    def test_semicolons_and_a_utf8_bom_as_turkish_excel_writes_them(self) -> None:
        text = (
            "marka;model;ımeı1;ımeı2;not\r\n"
            f'Türk Telekom;"T Go";{imei(1)};;ilk\r\n'
            "\r\n"
            f"General Mobile;GM 23;{imei(2)};{imei(3)}\r\n"
            "Şahin;ÇİĞDEM-1;3,56938E+14;;\r\n"
            f"Şahin;ÇİĞDEM-1;{imei(4)[1:]};;\r\n"
        )
        device_file, rows = read_all(b"\xef\xbb\xbf" + text.encode("utf-8"))
        assert (device_file.format, device_file.delimiter, device_file.encoding) == (
            DeviceFileFormat.CSV,
            ";",
            "utf-8-sig",
        )
        assert rows[:2] == [
            DeviceRow(2, "TÜRK TELEKOM", "T GO", (imei(1),)),
            DeviceRow(4, "GENERAL MOBİLE", "GM 23", (imei(2), imei(3))),
        ]
        assert device_file.issues == []
        scientific = rows[2]
        assert scientific.imeis == ("3,56938E+14",)
        (note,) = scientific.notes
        assert (note.issue.row, note.issue.column, note.issue.header, note.issue.code) == (
            5,
            "C",
            "ımeı1",
            IssueCode.IMEI_SCIENTIFIC_NOTATION,
        )
        # Excel wrote a number: 14 digits may have lost a leading zero.
        assert rows[3].short_numbers == (ShortNumber(0, "C", "ımeı1"),)

    def test_windows_turkish_encoding(self) -> None:
        text = f"MARKA;MODEL;IMEI1\r\nİnovasyon Şirketi;Çağrı Ğ-1;{imei(1)}\r\n"
        device_file, rows = read_all(text.encode("cp1254"))
        assert device_file.encoding == "cp1254"
        assert (rows[0].brand, rows[0].model) == ("İNOVASYON ŞİRKETİ", "ÇAĞRI Ğ-1")

    def test_commas_without_bom(self) -> None:
        text = f'MARKA,MODEL,IMEI1,IMEI2\nAPPLE,"A2403",{imei(1)},\n'
        device_file, rows = read_all(text.encode())
        assert device_file.delimiter == "," and rows[0].imeis == (imei(1),)

    def test_tab_separated_unicode_text_from_excel(self) -> None:
        text = f"MARKA\tMODEL\tIMEI1\r\nAPPLE\tA2403\t{imei(1)}\r\n"
        device_file, rows = read_all(text.encode("utf-16"))
        assert device_file.delimiter == "\t" and rows[0].imeis == (imei(1),)

    def test_a_short_record_is_a_row_without_imei(self) -> None:
        device_file, _ = read_all(
            f"MARKA;MODEL;IMEI1\nAPPLE;A2403\nAPPLE;A2403;{imei(1)}\n".encode()
        )
        assert (only_issue(device_file).row, only_issue(device_file).code) == (
            2,
            IssueCode.MISSING_IMEI,
        )

    def test_missing_csv_columns_are_named(self) -> None:
        error = refusal(f"MARKA;IMEI1\nAPPLE;{imei(1)}\n".encode())
        assert error.code is DeviceFileErrorCode.MISSING_COLUMNS and "MODEL" in error.message_en


EK2_AS_IN_THE_COMMUNIQUE = """Ek-2

ABC İletişim Ltd. Şti., SAMSUNG SM-G9359
İTHALAT TARİHİ: 15.03.2024

IMEI NUMARALARI
{a}
{b_spaced}

{c};{d}
"""


class TestEk2Text:
    def test_the_communiques_layout_with_values(self) -> None:
        b = imei(2)
        text = EK2_AS_IN_THE_COMMUNIQUE.format(
            a=imei(1), b_spaced=f"{b[:2]} {b[2:8]} {b[8:14]} {b[14]}", c=imei(3), d=imei(4)
        )
        device_file, rows = read_all(text.encode("utf-8"), filename="liste.txt")
        assert device_file.format is DeviceFileFormat.EK2_TEXT
        assert rows == [
            DeviceRow(7, "SAMSUNG", "SM-G9359", (imei(1),)),
            DeviceRow(8, "SAMSUNG", "SM-G9359", (b,)),
            DeviceRow(10, "SAMSUNG", "SM-G9359", (imei(3), imei(4))),
        ]
        (block,) = device_file.ek2_blocks
        assert block.firm_name == "ABC İletişim Ltd. Şti."
        assert block.import_date == datetime.date(2024, 3, 15)
        assert (block.line, block.device_count) == (3, 3)

    def test_captions_kept_above_the_values_and_several_lists(self) -> None:
        text = "\n".join(
            [
                "EK-2",
                "FİRMA ADI, MARKA MODEL",
                "Deniz Elektronik A.Ş., Apple, iPhone-12",
                "İTHALAT TARİHİ",
                "01/02/2024",
                "IMEI NUMARALARI",
                imei(1),
                "",
                "Marka: xiaomi",
                "Model: 2201117TG",
                f"{imei(2)} {imei(3)}",
                "IMEI: " + imei(4),
            ]
        )
        device_file, rows = read_all(text.encode("cp1254"))
        assert [(r.row_number, r.brand, r.model, r.imeis) for r in rows] == [
            (7, "APPLE", "İPHONE-12", (imei(1),)),
            (11, "XİAOMİ", "2201117TG", (imei(2), imei(3))),
            (12, "XİAOMİ", "2201117TG", (imei(4),)),
        ]
        assert [(b.line, b.firm_name, b.import_date) for b in device_file.ek2_blocks] == [
            (3, "Deniz Elektronik A.Ş.", datetime.date(2024, 2, 1)),
            (9, "Deniz Elektronik A.Ş.", datetime.date(2024, 2, 1)),
        ]

    def test_bad_lines_are_reported_by_line_number(self) -> None:
        text = "\n".join(
            [
                "ABC Ltd, NOKIA TA-1203",
                imei(1),
                "35209900176148O",
                "lütfen arayın",
                ";".join(imei(n) for n in range(5)),
                "XYZ Ltd, MOTOROLA XT2343",
            ]
        )
        device_file, rows = read_all(text.encode())
        assert [r.row_number for r in rows] == [2, 3]
        (note,) = rows[1].notes
        assert (note.issue.row, note.issue.header, note.issue.code) == (
            3,
            "IMEI1",
            IssueCode.IMEI_NOT_DIGITS,
        )
        assert [(i.row, i.column, i.header, i.code) for i in device_file.issues] == [
            (4, None, None, IssueCode.UNRECOGNISED_LINE),
            (5, None, None, IssueCode.TOO_MANY_IMEIS),
            (6, None, None, IssueCode.MISSING_IMEI),  # a brand/model line with no IMEI after it
        ]

    def test_imeis_before_any_brand_and_model_refuse_the_file(self) -> None:
        text = f"IMEI NUMARALARI\n{imei(1)}\n{imei(2)}\n"
        error = refusal(text.encode())
        assert error.code is DeviceFileErrorCode.BRAND_MODEL_LINE_MISSING
        assert error.row == 2
        assert "FİRMA ADI, MARKA MODEL" in error.message_tr


class TestTemplate:
    def test_the_template_firms_download(self) -> None:
        workbook = openpyxl.load_workbook(io.BytesIO(build_template_xlsx()))
        assert (
            workbook.sheetnames
            == [TEMPLATE_SHEET, INSTRUCTIONS_SHEET]
            == ["IMEI Listesi", "Açıklamalar"]
        )
        sheet = workbook[TEMPLATE_SHEET]
        assert [cell.value for cell in sheet[1]] == [
            "MARKA",
            "MODEL",
            "IMEI1",
            "IMEI2",
            "IMEI3",
            "IMEI4",
        ]
        assert sheet.freeze_panes == "A2"
        for letter in "CDEF":
            assert sheet.column_dimensions[letter].number_format == "@"
            assert sheet[f"{letter}2"].number_format == "@"
            assert sheet[f"{letter}5001"].number_format == "@"
            assert sheet.column_dimensions[letter].width >= 17  # 15 digits visible
        notes = " ".join(
            str(row[0].value) for row in workbook[INSTRUCTIONS_SHEET].iter_rows() if row[0].value
        )
        for phrase in [
            "her satıra bir cihaz",
            "IMEI2, IMEI3 ve IMEI4",
            "boş bırakın",
            "CE belgesinde",
            "APPLE",
            "A2403",
            "SAMSUNG",
            "SM-G9359",
            "15 hane",
            "metin",
        ]:
            assert phrase in notes, phrase

    def test_an_untouched_template_has_no_devices(self) -> None:
        assert refusal(build_template_xlsx()).code is DeviceFileErrorCode.NO_DEVICE_ROWS

    def test_a_filled_template_reads_back(self) -> None:
        workbook = openpyxl.load_workbook(io.BytesIO(build_template_xlsx()))
        sheet = workbook[TEMPLATE_SHEET]
        # As typed in Excel: into the pre-formatted rows right under the header.
        sheet["A2"], sheet["B2"], sheet["C2"] = "APPLE", "A2403", imei(1)
        sheet["A3"], sheet["B3"], sheet["C3"], sheet["D3"] = "SAMSUNG", "SM-G9359", imei(2), imei(3)
        out = io.BytesIO()
        workbook.save(out)
        _, rows = read_all(out.getvalue())
        assert rows == [
            DeviceRow(2, "APPLE", "A2403", (imei(1),)),
            DeviceRow(3, "SAMSUNG", "SM-G9359", (imei(2), imei(3))),
        ]


# Values a firm could type that spreadsheets would run or reinterpret.
HOSTILE = (
    '=HYPERLINK("http://x","tıkla")',
    "+90 555 000 00 00",
    "-1+1",
    "@SUM(A1:A2)",
    "#N/A",
    "\tTAB",
    "tab\x07bell",
)


class TestExport:
    def test_every_value_is_written_as_text_never_a_formula(self) -> None:
        rows = [[value, 42, None] for value in HOSTILE]
        data = write_device_rows_xlsx(rows, ["MARKA", "MODEL", "NOT"])
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        written = list(sheet.iter_rows(min_row=2, values_only=False))
        assert [row[0].value for row in written] == [*HOSTILE[:-1], "tabbell"]
        for row in written:
            assert row[0].data_type == "s" and row[1].data_type == "s"
            assert row[1].value == "42"
            assert row[2].value is None
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in xml and b"<f " not in xml and b't="e"' not in xml

    def test_device_rows_round_trip_through_the_export(self) -> None:
        rows = [
            DeviceRow(2, "APPLE", "A2403", (imei(1),)),
            DeviceRow(3, "SAMSUNG", "SM-G9359", (imei(2), imei(3))),
        ]
        data = write_device_rows_xlsx((device_row_cells(row) for row in rows), DEVICE_COLUMNS)
        _, read_back = read_all(data)
        assert read_back == rows
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet is not None and sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["C"].number_format == "@"

    def test_rows_are_streamed_to_a_target(self, tmp_path: Path) -> None:
        consumed = 0

        def generated() -> Iterable[Sequence[object]]:
            nonlocal consumed
            for n in range(20_000):
                consumed += 1
                yield ("APPLE", "A2403", imei(n))

        target = tmp_path / "export.xlsx"
        assert (
            write_device_rows_xlsx(generated(), ["MARKA", "MODEL", "IMEI1"], target=target) is None
        )
        device_file, rows = read_all(target)
        assert (
            consumed == 20_000
            and device_file.device_count == 20_000
            and rows[-1].row_number == 20_001
        )
