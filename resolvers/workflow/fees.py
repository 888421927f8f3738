"""The fee schedule: staff admins set a year's per-IMEI fee or its revaluation rate; anyone
logged in reads what a year's fee is. The arithmetic itself is `models.fees`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import clock
from models.fees import (
    FeeQuote,
    FeeRule,
    FeeUnknown,
    FeeYear,
    kurus_from_lira,
    quote,
    valid_rate,
)
from models.roles import Role
from resolvers import audit
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.settings import get_settings

FIRST_YEAR, LAST_YEAR = 2000, 2100
# Above this a fee is a typo (a million liras per IMEI).
MAX_FEE_KURUS = 100_000_000


@dataclass(frozen=True, slots=True)
class FeeYearView:
    year: int
    fee_kurus: int | None  # set for this year
    revaluation_rate: Decimal | None
    quote: FeeQuote | None  # what the year's fee works out to; None when it cannot


async def _rules(up_to: int) -> list[FeeRule]:
    return [
        FeeRule(row.year, row.fee_kurus, row.revaluation_rate)
        for row in await FeeYear.filter(year__lte=up_to).order_by("year")
    ]


async def quote_for(year: int) -> FeeQuote:
    """The per-IMEI fee of `year`, or FEE_NOT_DEFINED naming the year that lacks data."""
    try:
        return quote(year, await _rules(year))
    except FeeUnknown as unknown:
        raise DomainError(
            ErrorCode.FEE_NOT_DEFINED, year=unknown.year, missing=unknown.missing_year
        ) from unknown


def _check_year(year: int, field: str = "year") -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise invalid(
            field,
            f"yıl {FIRST_YEAR} ile {LAST_YEAR} arasında olmalı",
            f"the year must be between {FIRST_YEAR} and {LAST_YEAR}",
        )


async def set_fee_year(
    actor: Actor, year: int, fee_kurus: int | None, revaluation_rate: Decimal | None
) -> FeeYearView:
    """Set (or, with both None, clear) a year's fee and revaluation rate."""
    if not actor.has(Role.STAFF_ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    _check_year(year)
    if fee_kurus is not None and not 0 <= fee_kurus <= MAX_FEE_KURUS:
        raise invalid(
            "fee", "ücret 0 ile 1.000.000 TL arasında olmalı", "the fee must be 0 to 1,000,000 TL"
        )
    if revaluation_rate is not None and not valid_rate(revaluation_rate):
        raise invalid(
            "revaluationRate",
            "oran 0 ile 10 arasında, en fazla 6 ondalık basamaklı bir kesir olmalı "
            "(ör. %43,79 için 0.4379)",
            "the rate is a fraction from 0 to 10 with at most 6 decimals (43.79 % is 0.4379)",
        )
    async with in_transaction():
        row = await FeeYear.filter(year=year).select_for_update().first()
        before = (
            {"fee": row.fee_kurus, "rate": str(row.revaluation_rate)} if row is not None else None
        )
        if fee_kurus is None and revaluation_rate is None:
            if row is not None:
                await row.delete()
        elif row is None:
            await FeeYear.create(
                year=year,
                fee_kurus=fee_kurus,
                revaluation_rate=revaluation_rate,
                updated_by=actor.name,
                updated_at=clock.now(),
            )
        else:
            row.fee_kurus = fee_kurus
            row.revaluation_rate = revaluation_rate
            row.updated_by = actor.name
            row.updated_at = clock.now()
            await row.save()
        await audit.record(
            actor,
            "fee.year_set",
            "FeeYear",
            year,
            {
                "before": before,
                "fee": fee_kurus,
                "rate": None if revaluation_rate is None else str(revaluation_rate),
            },
        )
    return (await fee_schedule(actor, year, year))[0]


async def fee_schedule(actor: Actor, from_year: int, to_year: int) -> list[FeeYearView]:
    """Every year in the range with what was set and what the fee works out to."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    _check_year(from_year, "fromYear")
    _check_year(to_year, "toYear")
    if to_year < from_year:
        raise invalid("toYear", "bitiş yılı başlangıçtan önce", "toYear is before fromYear")
    rules = await _rules(to_year)
    by_year = {rule.year: rule for rule in rules}
    views = []
    for year in range(from_year, to_year + 1):
        rule = by_year.get(year, FeeRule(year))
        try:
            worked_out: FeeQuote | None = quote(year, rules)
        except FeeUnknown:
            worked_out = None
        views.append(FeeYearView(year, rule.fee_kurus, rule.rate, worked_out))
    return views


def kurus_of(amount: Decimal, field: str) -> int:
    """An amount in liras as the API takes it → kuruş, or INVALID_INPUT."""
    try:
        return kurus_from_lira(amount)
    except ValueError as error:
        raise invalid(
            field,
            "tutar en fazla iki ondalık basamaklı, sıfır ya da pozitif bir sayı olmalı",
            "an amount is a non-negative number with at most two decimals",
        ) from error


def payment_due(issued_at: datetime) -> datetime:
    """The last day to pay a fee notice: MCKS_FEE_PAYMENT_DAYS after its date (printed on
    the notice and in its e-mail)."""
    return issued_at + timedelta(days=get_settings().fee_payment_days)
