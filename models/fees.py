"""Registration fees (Tebliğ art. 15): the one place that does fee arithmetic.

A fee is due for every registered IMEI. It is raised every year by the revaluation rate the
Ministry announces, and fractions of a lira are rounded up ("kesirler tama iblağ
edilir"). Money is kept as whole kuruş (1 lira = 100 kuruş) in integers and rates as exact
decimals — never a float, so 0.1 + 0.2 is never 0.30000000000000004 liras.

A year's per-IMEI fee is either set by staff for that year, or derived year by year from
the latest earlier year that has a set fee (the base year):

    fee(base_year) = the fee set for it
    fee(y)         = ceil_to_whole_lira(fee(y - 1) × (1 + rate_y))    for base_year < y ≤ year

where rate_y is the revaluation rate announced for year y. Each year's fee is the fee that
year was actually charged, fractions rounded up; the next year raises that rounded fee, not an
unrounded product compounded from the base year (the fee is "raised every year", art. 15). So
2027's 4.674,00 TL raised by 12,345 % is 5.251,0053 TL → 5.252,00 TL for 2028, not the
5.251,00 TL a product rounded once would give. Each step is exact (Fraction of a Decimal).
A fee set for a year is used as it is, and becomes the base for the years after it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from tortoise import fields
from tortoise.models import Model

KURUS_PER_LIRA = 100
# Rates are stored with six decimal places (43.7856 % = 0.437856).
RATE_PLACES = 6


class FeeYear(Model):
    """What staff set for one year: its fee, or the revaluation rate that derives it."""

    id = fields.IntField(primary_key=True)
    year = fields.IntField(unique=True)
    fee_kurus = fields.BigIntField(null=True)
    revaluation_rate = fields.DecimalField(max_digits=10, decimal_places=RATE_PLACES, null=True)
    updated_by = fields.CharField(max_length=255)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "fee_year"


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One year's settings: a fee set for it and/or the revaluation rate announced for it."""

    year: int
    fee_kurus: int | None = None
    rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """A year's per-IMEI fee and how it was reached (for the fee notice and for audits)."""

    year: int
    per_imei_kurus: int
    base_year: int
    base_fee_kurus: int
    rates: tuple[tuple[int, Decimal], ...]
    # Every year's rounded fee from the base year on: (year, per-IMEI kuruş), for audits.
    steps: tuple[tuple[int, int], ...] = ()


class FeeUnknown(Exception):
    """No fee can be worked out for `year`: `missing_year` has neither a fee nor a rate."""

    def __init__(self, year: int, missing_year: int) -> None:
        super().__init__(f"no fee for {year}: {missing_year} has neither a fee nor a rate")
        self.year = year
        self.missing_year = missing_year


def ceil_to_lira(kurus: Fraction | int) -> int:
    """An exact amount in kuruş rounded up to a whole lira (art. 15: fractions round up)."""
    return math.ceil(Fraction(kurus) / KURUS_PER_LIRA) * KURUS_PER_LIRA


def quote(year: int, rules: Iterable[FeeRule]) -> FeeQuote:
    """The per-IMEI fee of `year` from the years' settings (see the module docstring)."""
    by_year = {rule.year: rule for rule in rules}
    base = max(
        (y for y, rule in by_year.items() if y <= year and rule.fee_kurus is not None),
        default=None,
    )
    if base is None:
        raise FeeUnknown(year, year)
    base_fee = by_year[base].fee_kurus
    assert base_fee is not None
    rates: list[tuple[int, Decimal]] = []
    steps = [(base, base_fee)]
    fee = base_fee
    for y in range(base + 1, year + 1):
        rule = by_year.get(y)
        if rule is None or rule.rate is None:
            raise FeeUnknown(year, y)
        rates.append((y, rule.rate))
        fee = revalued(fee, rule.rate)
        steps.append((y, fee))
    return FeeQuote(year, fee, base, base_fee, tuple(rates), tuple(steps))


def revalued(fee_kurus: int, rate: Decimal) -> int:
    """One year's raise: last year's fee × (1 + the year's rate), fractions up to a lira."""
    return ceil_to_lira(fee_kurus * (1 + Fraction(rate)))  # Fraction(Decimal) is exact


def total_kurus(imei_count: int, per_imei_kurus: int) -> int:
    """What a fee notice asks for: IMEIs × the per-IMEI fee."""
    if imei_count < 0 or per_imei_kurus < 0:
        raise ValueError("counts and fees are never negative")
    return imei_count * per_imei_kurus


def kurus_from_lira(amount: Decimal) -> int:
    """An amount in liras (as typed: "1250.50") → kuruş; more than two decimals is refused
    rather than rounded, since a payment must match to the kuruş."""
    if not amount.is_finite() or amount < 0:
        raise ValueError("an amount is a non-negative number")
    kurus = amount * KURUS_PER_LIRA
    if kurus != kurus.to_integral_value():
        raise ValueError("an amount has at most two decimal places (kuruş)")
    return int(kurus)


def lira_from_kurus(kurus: int) -> Decimal:
    return (Decimal(kurus) / KURUS_PER_LIRA).quantize(Decimal("0.01"))


def format_lira(kurus: int) -> str:
    """Turkish money format: 1234567 kuruş → "12.345,67 TL"."""
    sign = "-" if kurus < 0 else ""
    lira, rest = divmod(abs(kurus), KURUS_PER_LIRA)
    return f"{sign}{lira:,}".replace(",", ".") + f",{rest:02d} TL"


def valid_rate(rate: Decimal) -> bool:
    """A revaluation rate as a fraction (0.437856 = 43.7856 %): from 0 to 10, six places."""
    if not rate.is_finite() or rate < 0 or rate > 10:
        return False
    return rate == rate.quantize(Decimal(1).scaleb(-RATE_PLACES))
