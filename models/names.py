"""Brand and model names as the registry keeps them and as declarations are compared to it.

One rule for both sides (the TAC registry and a firm's device list), so `Samsung ` and
`SAMSUNG` are the same brand everywhere.
"""

from __future__ import annotations

# Python's str.upper() follows the root locale (i → I); Turkish text needs i → İ, ı → I.
_TURKISH_UPPER = str.maketrans({"i": "İ", "ı": "I"})


def turkish_upper(text: str) -> str:
    return text.translate(_TURKISH_UPPER).upper()


def collapse_spaces(text: str) -> str:
    """Trimmed, with every run of whitespace (tabs, non-breaking spaces too) as one space."""
    return " ".join(text.split())


def normalise_brand_model(text: str) -> str:
    """A brand or model code as stored and compared: trimmed, spaces collapsed, Turkish
    upper case (`  galaxy  s21 ` → `GALAXY S21`, `ışık` → `IŞIK`, `vestel venüs` →
    `VESTEL VENÜS`)."""
    return turkish_upper(collapse_spaces(text))


def brand_model_key(text: str) -> str:
    """A comparison key that also ignores the dot on capital I.

    Under Turkish upper case `Xiaomi` becomes `XİAOMİ` while a CE certificate's `XIAOMI`
    stays `XIAOMI`; folding İ to I makes both the same key without changing what is shown.
    """
    return normalise_brand_model(text).replace("İ", "I")


# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP's
# CSV-injection rule); `=HYPERLINK(…)` in a brand would reach an operator's desk that way.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    """Only the first character matters: `SM-G9359` is a model, `-X1` a formula."""
    return text.startswith(FORMULA_PREFIXES)


def spreadsheet_safe(text: str) -> str:
    """A value for a CSV cell: one that would start a formula gets OWASP's leading `'`."""
    return "'" + text if starts_like_formula(text) else text
