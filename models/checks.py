"""The technical checks' result codes (Tebliğ art. 3(l), 8(2); guide §3) and their labels."""

from __future__ import annotations

from enum import StrEnum

from models.labels import register


class CheckCode(StrEnum):
    INVALID_IMEI = "INVALID_IMEI"
    SIM_COUNT_MISMATCH = "SIM_COUNT_MISMATCH"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    BLACKLISTED = "BLACKLISTED"
    TAC_NOT_FOUND = "TAC_NOT_FOUND"
    MODEL_MISMATCH = "MODEL_MISMATCH"
    DUPLICATE_IN_LIST = "DUPLICATE_IN_LIST"
    PENDING_ELSEWHERE = "PENDING_ELSEWHERE"
    IMEI_MODEL_CONFLICT = "IMEI_MODEL_CONFLICT"
    # An individual's device passes or fails as a whole: this IMEI is fine in itself, but
    # another IMEI of the same device failed.
    DEVICE_REFUSED = "DEVICE_REFUSED"


# Codes that make a brand/model group red: the registry does not confirm what was declared.
RED_GROUP_CODES = frozenset(
    {CheckCode.MODEL_MISMATCH, CheckCode.TAC_NOT_FOUND, CheckCode.IMEI_MODEL_CONFLICT}
)

# Art. 12(2): test devices' identities need not conform to the standards.
IMEI_STANDARD_CODES = frozenset(
    {
        CheckCode.INVALID_IMEI,
        CheckCode.TAC_NOT_FOUND,
        CheckCode.MODEL_MISMATCH,
        CheckCode.SIM_COUNT_MISMATCH,
        CheckCode.IMEI_MODEL_CONFLICT,
    }
)

register(
    CheckCode,
    {
        "INVALID_IMEI": ("Geçersiz IMEI", "Invalid IMEI"),
        "SIM_COUNT_MISMATCH": ("SIM Sayısı uyuşmazlığı", "SIM count mismatch"),
        "ALREADY_REGISTERED": ("Adada mevcut IMEI", "IMEI already registered"),
        "BLACKLISTED": ("Kara listede kayıtlı IMEI", "IMEI is blacklisted"),
        "TAC_NOT_FOUND": ("TAC kayıtlı değil", "TAC not in the registry"),
        "MODEL_MISMATCH": ("Marka/model TAC ile uyuşmuyor", "Brand/model does not match the TAC"),
        "DUPLICATE_IN_LIST": ("Listede tekrarlanan IMEI", "IMEI repeated in the list"),
        "PENDING_ELSEWHERE": ("Başka bir başvuruda işlemde", "In another application in progress"),
        "IMEI_MODEL_CONFLICT": (
            "Cihazın IMEI'leri farklı modellere ait",
            "The device's IMEIs belong to different models",
        ),
        "DEVICE_REFUSED": (
            "Cihazın başka bir IMEI'si kontrollerden geçemedi",
            "Another IMEI of the device failed the checks",
        ),
    },
)
