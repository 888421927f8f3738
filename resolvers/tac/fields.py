"""One TAC model's values, checked the same way wherever they come from (CSV line, staff
form, firm request): what is unambiguous is accepted and normalised, the rest is a problem
with a Turkish and an English explanation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from models.labels import register
from models.names import collapse_spaces, normalise_brand_model, starts_like_formula
from resolvers.errors import DomainError, DomainErrors, invalid

# The column sizes of models.tac.TacModel.
MAX_BRAND = 128
MAX_MODEL = 128
MAX_MARKETING_NAME = 255
MAX_DEVICE_TYPE = 64
MAX_IMEI_COUNT = 4  # SIM slots: IMEI1..IMEI4 in the device list template

# Spreadsheet tools write numbers as `35123456.0`: the same number, so accepted.
_WHOLE = re.compile(r"([0-9]+)(?:\.0+)?")


class TacLineCode(StrEnum):
    """Why one value of one TAC line was not accepted."""

    INVALID_TAC = "INVALID_TAC"
    MISSING_VALUE = "MISSING_VALUE"
    TOO_LONG = "TOO_LONG"
    INVALID_IMEI_COUNT = "INVALID_IMEI_COUNT"
    DUPLICATE_TAC = "DUPLICATE_TAC"
    FORMULA_VALUE = "FORMULA_VALUE"


register(
    TacLineCode,
    {
        "INVALID_TAC": ("Geçersiz TAC", "Invalid TAC"),
        "MISSING_VALUE": ("Boş değer", "Missing value"),
        "TOO_LONG": ("Çok uzun değer", "Value too long"),
        "INVALID_IMEI_COUNT": ("Geçersiz IMEI sayısı", "Invalid IMEI count"),
        "DUPLICATE_TAC": ("Dosyada tekrarlanan TAC", "TAC repeated in the file"),
        "FORMULA_VALUE": ("Formül gibi başlayan değer", "Value that starts like a formula"),
    },
)


class ValueProblem(Exception):
    def __init__(self, code: TacLineCode, message_tr: str, message_en: str) -> None:
        self.code = code
        self.message_tr = message_tr
        self.message_en = message_en
        super().__init__(message_en)


def clean_tac(raw: str, legacy_allowed: bool = True) -> str:
    """8 digits; 6 digits too where legacy TACs are allowed (they match IMEIs as prefixes)."""
    text = raw.strip()
    match = _WHOLE.fullmatch(text)
    digits = match.group(1) if match else ""
    if len(digits) == 8 or (legacy_allowed and len(digits) == 6):
        return digits
    if not text:
        raise ValueProblem(TacLineCode.MISSING_VALUE, "TAC boş olamaz", "TAC must not be empty")
    expected_tr = "8 haneli (eski kayıtlarda 6 haneli)" if legacy_allowed else "8 haneli"
    expected_en = "8 digits (6 for legacy entries)" if legacy_allowed else "8 digits"
    hint_tr = hint_en = ""
    if digits and len(digits) in (5, 7):
        # Excel drops the leading zero of TACs such as 01234567.
        hint_tr = "; baştaki sıfır kaybolmuş olabilir (Excel sayıya çevirmiş olabilir)"
        hint_en = "; a leading zero may have been lost (a spreadsheet made it a number)"
    raise ValueProblem(
        TacLineCode.INVALID_TAC,
        f"TAC {expected_tr} bir sayı olmalı: '{text[:40]}'{hint_tr}",
        f"the TAC must be {expected_en}: '{text[:40]}'{hint_en}",
    )


# What each value is called in messages (Turkish, English).
BRAND = ("marka", "brand")
MODEL = ("model", "model")
MARKETING_NAME = ("pazarlama adı", "marketing name")
DEVICE_TYPE = ("cihaz türü", "device type")


def clean_brand_model(raw: str, max_length: int, label: tuple[str, str] = BRAND) -> str:
    value = normalise_brand_model(raw)
    if not value:
        raise ValueProblem(TacLineCode.MISSING_VALUE, "boş olamaz", "must not be empty")
    return _not_formula(_within(value, max_length), label)


def clean_text(raw: str, max_length: int, label: tuple[str, str] = MARKETING_NAME) -> str:
    """Optional descriptive text (marketing name, device type): spaces tidied, case kept."""
    return _not_formula(_within(collapse_spaces(raw), max_length), label)


def _not_formula(value: str, label: tuple[str, str]) -> str:
    """Registry values reach operators' CSV files and spreadsheets: one a spreadsheet would
    run as a formula is refused (only its first character counts: `SM-G9359` is fine)."""
    if starts_like_formula(value):
        shown = value[:40].replace("\t", " ").replace("\r", " ")
        raise ValueProblem(
            TacLineCode.FORMULA_VALUE,
            f"{label[0]} '{shown}' '{value[0]}' ile başlıyor: =, +, -, @, sekme ya da satır "
            "başı ile başlayan değerler tablolama programlarında formül olarak çalışır, "
            "kabul edilmez",
            f"the {label[1]} '{shown}' starts with '{value[0]}': values starting with =, +, -, "
            "@, a tab or a carriage return run as formulas in spreadsheets and are refused",
        )
    return value


def _within(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise ValueProblem(
            TacLineCode.TOO_LONG,
            f"en fazla {max_length} karakter olabilir",
            f"must be at most {max_length} characters",
        )
    return value


def clean_imei_count(raw: str | int) -> int:
    if isinstance(raw, int):
        count = raw
    else:
        match = _WHOLE.fullmatch(raw.strip())
        count = int(match.group(1)) if match else -1
    if not 1 <= count <= MAX_IMEI_COUNT:
        shown = str(raw).strip()[:20]
        raise ValueProblem(
            TacLineCode.INVALID_IMEI_COUNT,
            f"IMEI sayısı 1 ile {MAX_IMEI_COUNT} arasında bir tam sayı olmalı: '{shown}'",
            f"the IMEI count must be a whole number from 1 to {MAX_IMEI_COUNT}: '{shown}'",
        )
    return count


@dataclass(frozen=True, slots=True)
class TacModelData:
    """A TAC model's values, validated and normalised."""

    tac: str
    brand: str
    model_code: str
    marketing_name: str
    device_type: str
    imei_count: int


@dataclass(frozen=True, slots=True)
class TacModelChanges:
    """What a staff edit changes; None leaves a value as it is (the TAC itself never changes)."""

    brand: str | None = None
    model_code: str | None = None
    marketing_name: str | None = None
    device_type: str | None = None
    imei_count: int | None = None


def _clean_fields(
    specs: tuple[tuple[str, str, object, Callable[[Any], object]], ...],
) -> dict[str, object]:
    """(attribute, API field, raw value, cleaner) → cleaned values; None values are skipped.
    Every problem is collected, so the caller hears about all its fields at once."""
    problems: list[DomainError] = []
    cleaned: dict[str, object] = {}
    for name, field, value, clean in specs:
        if value is None:
            continue
        try:
            cleaned[name] = clean(value)
        except ValueProblem as problem:
            problems.append(invalid(field, problem.message_tr, problem.message_en))
    if problems:
        raise DomainErrors(problems)
    return cleaned


def _specs(
    brand: str | None,
    model_code: str | None,
    marketing_name: str | None,
    device_type: str | None,
    imei_count: int | None,
) -> tuple[tuple[str, str, object, Callable[[Any], object]], ...]:
    return (
        ("brand", "brand", brand, lambda v: clean_brand_model(v, MAX_BRAND, BRAND)),
        (
            "model_code",
            "modelCode",
            model_code,
            lambda v: clean_brand_model(v, MAX_MODEL, MODEL),
        ),
        (
            "marketing_name",
            "marketingName",
            marketing_name,
            lambda v: clean_text(v, MAX_MARKETING_NAME, MARKETING_NAME),
        ),
        (
            "device_type",
            "deviceType",
            device_type,
            lambda v: clean_text(v, MAX_DEVICE_TYPE, DEVICE_TYPE),
        ),
        ("imei_count", "imeiCount", imei_count, clean_imei_count),
    )


def validate_model_data(
    tac: str,
    brand: str,
    model_code: str,
    marketing_name: str,
    device_type: str,
    imei_count: int,
    legacy_allowed: bool = True,
) -> TacModelData:
    """Every field checked; all problems reported at once, each naming its (API) field."""
    cleaned = _clean_fields(
        (
            ("tac", "tac", tac, lambda v: clean_tac(v, legacy_allowed)),
            *_specs(brand, model_code, marketing_name, device_type, imei_count),
        )
    )
    return TacModelData(**cleaned)  # type: ignore[arg-type]


def validate_changes(
    brand: str | None = None,
    model_code: str | None = None,
    marketing_name: str | None = None,
    device_type: str | None = None,
    imei_count: int | None = None,
) -> TacModelChanges:
    cleaned = _clean_fields(_specs(brand, model_code, marketing_name, device_type, imei_count))
    return TacModelChanges(**cleaned)  # type: ignore[arg-type]
