"""Turkish and English labels of the enum values portals show (one catalogue)."""

from __future__ import annotations

from enum import Enum

from models.roles import ClientKind, FirmKind, Role

LABELS: dict[type[Enum], dict[str, tuple[str, str]]] = {
    Role: {
        "FIRM_USER": ("Firma Alt Kullanıcısı", "Firm user"),
        "FIRM_SUPERVISOR": ("Firma Üst Kullanıcısı", "Firm supervisor"),
        "STAFF_REVIEWER": ("Kurum İnceleme Personeli", "Staff reviewer"),
        "STAFF_ARCHIVE": ("Kurum Arşiv Personeli", "Staff archive"),
        "STAFF_ADMIN": ("Kurum Yöneticisi", "Staff administrator"),
        "OPERATOR": ("Operatör", "Operator"),
        "E_DEVLET": ("e-Devlet", "e-Devlet"),
        "SYSTEM": ("Sistem", "System"),
    },
    FirmKind: {
        "IMPORTER": ("İthalatçı", "Importer"),
        "MANUFACTURER": ("Üretici", "Manufacturer"),
        "IMPORTER_MANUFACTURER": ("İthalatçı ve Üretici", "Importer and manufacturer"),
    },
    ClientKind: {
        "OPERATOR": ("Operatör", "Operator"),
        "E_DEVLET": ("e-Devlet", "e-Devlet"),
    },
}


def register(enum_cls: type[Enum], labels: dict[str, tuple[str, str]]) -> None:
    """Areas add their enums' labels here (statuses, check codes, …)."""
    missing = {member.name for member in enum_cls} - labels.keys()
    if missing:
        raise ValueError(f"{enum_cls.__name__} has no label for {sorted(missing)}")
    LABELS[enum_cls] = labels


def label(value: Enum, lang: str = "tr") -> str:
    tr, en = LABELS[type(value)][value.name]
    return en if lang == "en" else tr


def enums_by_name() -> dict[str, type[Enum]]:
    return {cls.__name__: cls for cls in LABELS}
