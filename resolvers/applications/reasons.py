"""Why a device failed, in words: per reason, which of its IMEIs fail and why (Turkish and
English), for the device pages and the failed-devices export.

The analysis stores, per failure, where the IMEIs it blames are
(`device_failure.imei_positions`); the upload stores, per IMEI that cannot be an IMEI, its
cell and reason (`device.imei_notes`). The rest is read from the TAC registry when the
words are written: which model a TAC is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from models.checks import CheckCode
from models.imei import IMEI_LENGTH, TAC_LENGTH, luhn_check_digit
from models.labels import label
from models.tac import TacModel
from resolvers.applications.readings import tac_readable

_PAYLOAD_LENGTH: Final = IMEI_LENGTH - 1


@dataclass(frozen=True, slots=True)
class FailedDevice:
    """What the wording of a device's reasons needs to know of the device."""

    brand: str
    model: str
    imeis: tuple[str, ...]
    notes: dict[str, dict[str, str | None]]
    # Other rows of the list holding each of its repeated IMEIs.
    repeated_in: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Reason:
    code: CheckCode
    imeis: tuple[str, ...]
    detail_tr: str
    detail_en: str

    def label(self, lang: str) -> str:
        return label(self.code, lang)

    def detail(self, lang: str) -> str:
        return self.detail_en if lang == "en" else self.detail_tr


def _position(device: FailedDevice, imei: str) -> str:
    try:
        return f"IMEI{device.imeis.index(imei) + 1}"
    except ValueError:
        return "IMEI"


def _why_invalid(device: FailedDevice, imei: str) -> tuple[str, str]:
    note = device.notes.get(imei)
    if note is not None:
        where = f" ({note['column']})" if note.get("column") else ""
        return f"hücre{where} «{imei}»: {note['tr']}", f"cell{where} “{imei}”: {note['en']}"
    if not (imei.isascii() and imei.isdigit()):
        return (f"«{imei}» yalnızca rakamlardan oluşmuyor", f"“{imei}” is not all digits")
    if len(imei) != IMEI_LENGTH:
        return (
            f"{imei}: {len(imei)} hane; IMEI 15 hanedir",
            f"{imei}: {len(imei)} digits; an IMEI has 15",
        )
    expected = luhn_check_digit(imei[:_PAYLOAD_LENGTH])
    return (
        f"{imei}: kontrol hanesi (son hane) {expected} olmalı, {imei[-1]} yazılmış",
        f"{imei}: the check digit (last digit) should be {expected}, not {imei[-1]}",
    )


def _model_of(models: dict[str, TacModel], imei: str) -> TacModel | None:
    return models.get(imei[:TAC_LENGTH]) if tac_readable(imei) else None


def _per_imei(
    device: FailedDevice, imeis: Iterable[str], word: Callable[[str], tuple[str, str]]
) -> tuple[str, str]:
    """ "IMEI2 <why>; IMEI3 <why>": each blamed IMEI named by its column."""
    words_tr, words_en = [], []
    for imei in imeis:
        where = _position(device, imei)
        why_tr, why_en = word(imei)
        words_tr.append(f"{where} {why_tr}")
        words_en.append(f"{where} {why_en}")
    return "; ".join(words_tr), "; ".join(words_en)


def describe(
    code: CheckCode, imeis: tuple[str, ...], device: FailedDevice, models: dict[str, TacModel]
) -> Reason:
    """The words for one failure; ``models`` holds the registry models of the device's TACs."""
    tr, en = _WORDS[code](device, imeis, models)
    return Reason(code, imeis, tr, en)


def _invalid(
    device: FailedDevice, imeis: tuple[str, ...], _: dict[str, TacModel]
) -> tuple[str, str]:
    return _per_imei(device, imeis, lambda i: _why_invalid(device, i))


def _repeated(
    device: FailedDevice, imeis: tuple[str, ...], _: dict[str, TacModel]
) -> tuple[str, str]:
    def word(imei: str) -> tuple[str, str]:
        rows = ", ".join(str(r) for r in device.repeated_in.get(imei, []))
        if not rows:
            return f"{imei} bu cihazda iki kez yazılmış", f"{imei} is given twice for this device"
        return f"{imei} listede başka satırda da var (satır {rows})", (
            f"{imei} is also on other rows of the list (rows {rows})"
        )

    return _per_imei(device, imeis, word)


def _tac_unknown(
    device: FailedDevice, imeis: tuple[str, ...], _: dict[str, TacModel]
) -> tuple[str, str]:
    return _per_imei(
        device,
        imeis,
        lambda i: (
            f"{i}: TAC {i[:TAC_LENGTH]} kayıtlı değil (madde 8(4) uyarınca kaydı istenebilir)",
            f"{i}: TAC {i[:TAC_LENGTH]} is not in the registry (art. 8(4): it may be requested)",
        ),
    )


def _registry_models(
    device: FailedDevice, imeis: tuple[str, ...], models: dict[str, TacModel]
) -> tuple[str, str]:
    declared = f"{device.brand} {device.model}"

    def word(imei: str) -> tuple[str, str]:
        model = _model_of(models, imei)
        if model is None:
            return imei, imei
        return (
            f"{imei}: TAC {imei[:TAC_LENGTH]} kayıtta {model.brand} {model.model_code}, "
            f"beyan edilen {declared}",
            f"{imei}: TAC {imei[:TAC_LENGTH]} is {model.brand} {model.model_code} in the "
            f"registry, {declared} was declared",
        )

    return _per_imei(device, imeis, word)


def _sim_count(
    device: FailedDevice, _: tuple[str, ...], models: dict[str, TacModel]
) -> tuple[str, str]:
    given = len(device.imeis)
    for imei in device.imeis:
        model = _model_of(models, imei)
        if model is not None:
            return (
                f"{given} IMEI verilmiş; TAC {imei[:TAC_LENGTH]} ({model.brand} "
                f"{model.model_code}) {model.imei_count} IMEI'li bir model",
                f"{given} IMEIs given; TAC {imei[:TAC_LENGTH]} ({model.brand} "
                f"{model.model_code}) is a model with {model.imei_count}",
            )
    return f"{given} IMEI verilmiş", f"{given} IMEIs given"


def _listed(where_tr: str, where_en: str) -> Callable[..., tuple[str, str]]:
    def words(
        device: FailedDevice, imeis: tuple[str, ...], _: dict[str, TacModel]
    ) -> tuple[str, str]:
        return _per_imei(device, imeis, lambda i: (f"{i} {where_tr}", f"{i} {where_en}"))

    return words


_WORDS: Final[dict[CheckCode, Callable[..., tuple[str, str]]]] = {
    CheckCode.INVALID_IMEI: _invalid,
    CheckCode.DUPLICATE_IN_LIST: _repeated,
    CheckCode.TAC_NOT_FOUND: _tac_unknown,
    CheckCode.MODEL_MISMATCH: _registry_models,
    CheckCode.IMEI_MODEL_CONFLICT: _registry_models,
    CheckCode.SIM_COUNT_MISMATCH: _sim_count,
    CheckCode.ALREADY_REGISTERED: _listed("beyaz listede kayıtlı", "is on the whitelist"),
    CheckCode.BLACKLISTED: _listed("kara listede", "is on the blacklist"),
    CheckCode.PENDING_ELSEWHERE: _listed(
        "işlemdeki başka bir başvuruda", "is in another application in progress"
    ),
}
