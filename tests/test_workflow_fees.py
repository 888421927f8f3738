"""The registration fee (art. 15): revalued every year, fractions rounded up to a whole lira,
exact arithmetic (never a float); staff admins set it; the fee notice uses the approval year."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import clock
from models.fees import (
    FeeRule,
    FeeUnknown,
    ceil_to_lira,
    format_lira,
    kurus_from_lira,
    quote,
    total_kurus,
)
from resolvers import jobs
from tests.support.api import gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    SET_FEE,
    TAKE,
    attach_documents,
    download,
    pdf_text,
    pdf_workers,
    refused,
    step,
    upload_signed_by_firm,
)
from tests.test_application_analysis import APPLE, SUBMIT, TO_ANALYSIS, create_draft, seed_registry

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

SCHEDULE = "query($from: Int!, $to: Int!) { feeSchedule(fromYear: $from, toYear: $to) { year fee { amount } revaluationRate perImei { amount text } baseYear } }"


def test_each_year_raises_last_years_rounded_fee_and_rounds_up():
    rules = [
        FeeRule(2024, fee_kurus=1000),
        FeeRule(2025, rate=Decimal("0.4379")),
        FeeRule(2026, rate=Decimal("0.5895")),
    ]
    assert quote(2024, rules).per_imei_kurus == 1000
    # 10,00 × 1,4379 = 14,379 TL → 15,00 TL.
    assert quote(2025, rules).per_imei_kurus == 1500
    # 2026 grows from 2025's rounded 15,00 TL: × 1,5895 = 23,8425 TL → 24,00 TL (a product
    # compounded from 2024 and rounded once would give 22,855… → 23,00 TL).
    fee_2026 = quote(2026, rules)
    assert fee_2026.per_imei_kurus == 2400
    assert (fee_2026.base_year, fee_2026.rates, fee_2026.steps) == (
        2024,
        ((2025, Decimal("0.4379")), (2026, Decimal("0.5895"))),
        ((2024, 1000), (2025, 1500), (2026, 2400)),
    )
    # A fee set for a year is used as it is and is the base of the years after it.
    rules.append(FeeRule(2027, fee_kurus=2550))
    rules.append(FeeRule(2028, rate=Decimal("0.1")))
    assert quote(2027, rules).per_imei_kurus == 2550
    assert quote(2028, rules).per_imei_kurus == 2900  # 28,05 TL → 29,00 TL


def test_the_issues_worked_check_on_the_demo_schedule():
    # The demo: 2.500,00 TL in 2025, then 43,79 % and 30 %: 3.594,75 → 3.595,00; × 1,3 =
    # 4.673,50 → 4.674,00. 2028 at 12,345 %: 4.674 × 1,12345 = 5.251,0053 → 5.252,00 TL.
    rules = [
        FeeRule(2025, fee_kurus=250_000),
        FeeRule(2026, rate=Decimal("0.4379")),
        FeeRule(2027, rate=Decimal("0.3")),
        FeeRule(2028, rate=Decimal("0.12345")),
    ]
    assert [quote(y, rules).per_imei_kurus for y in (2025, 2026, 2027, 2028)] == [
        250_000,
        359_500,
        467_400,
        525_200,
    ]


async def test_the_schedule_through_the_api_raises_each_rounded_year(client):
    await make_world()
    admin = await login(client, "staff.admin")
    for year, setting in (
        (2025, {"fee": "2500.00"}),
        (2026, {"revaluationRate": "0.4379"}),
        (2027, {"revaluationRate": "0.3"}),
        (2028, {"revaluationRate": "0.12345"}),
    ):
        await step(client, SET_FEE, {"input": {"year": year, **setting}}, admin)
    years = (await gql(client, SCHEDULE, {"from": 2027, "to": 2028}, token=admin))["data"][
        "feeSchedule"
    ]
    assert [(y["year"], y["perImei"]["text"], y["baseYear"]) for y in years] == [
        (2027, "4.674,00 TL", 2025),
        (2028, "5.252,00 TL", 2025),
    ]


def test_exact_decimals_where_floats_would_round_up_a_whole_lira():
    # 30,00 TL × 1,1 is 33,00 TL exactly; in floats it is 3300.0000000000005 kuruş → 34,00 TL.
    assert 3000 * (1 + 0.1) > 3300
    rules = [FeeRule(2025, 3000), FeeRule(2026, rate=Decimal("0.1"))]
    assert quote(2026, rules).per_imei_kurus == 3300
    assert ceil_to_lira(3301) == 3400 and ceil_to_lira(3300) == 3300 and ceil_to_lira(0) == 0


def test_a_year_without_a_fee_or_a_rate_has_no_fee():
    with pytest.raises(FeeUnknown) as unknown:
        quote(2027, [FeeRule(2025, 1000), FeeRule(2027, rate=Decimal("0.2"))])
    assert unknown.value.missing_year == 2026
    with pytest.raises(FeeUnknown):
        quote(2024, [FeeRule(2025, 1000)])


def test_money_is_whole_kurus():
    assert total_kurus(1_000_000, 2300) == 2_300_000_000  # beyond a 32-bit int, still exact
    assert format_lira(2_300_000_000) == "23.000.000,00 TL" and format_lira(5) == "0,05 TL"
    assert kurus_from_lira(Decimal("1250.5")) == 125050
    for bad in ("12.345", "-1", "NaN"):
        with pytest.raises(ValueError):
            kurus_from_lira(Decimal(bad))


async def test_staff_admins_set_the_schedule_and_everyone_reads_it(client):
    await make_world()
    admin, reviewer = await login(client, "staff.admin"), await login(client, "staff.reviewer")
    await step(client, SET_FEE, {"input": {"year": 2025, "fee": "10.00"}}, admin)
    rate = await step(client, SET_FEE, {"input": {"year": 2026, "revaluationRate": "0.1"}}, admin)
    assert rate["feeYear"] == {
        "year": 2026,
        "fee": None,
        "revaluationRate": "0.100000",
        "perImei": {"amount": "11.00", "text": "11,00 TL"},
        "baseYear": 2025,
    }
    assert await refused(client, SET_FEE, {"input": {"year": 2027, "fee": "1"}}, reviewer) == [
        "FORBIDDEN"
    ]
    assert await refused(
        client, SET_FEE, {"input": {"year": 2027, "revaluationRate": "0.1234567"}}, admin
    ) == ["INVALID_INPUT"]
    assert await refused(client, SET_FEE, {"input": {"year": 2027, "fee": "1.005"}}, admin) == [
        "INVALID_INPUT"
    ]
    firm = await login(client, "a.user")
    years = (await gql(client, SCHEDULE, {"from": 2025, "to": 2027}, token=firm))["data"][
        "feeSchedule"
    ]
    assert [(y["year"], y["perImei"] and y["perImei"]["amount"]) for y in years] == [
        (2025, "10.00"),
        (2026, "11.00"),
        (2027, None),
    ]


@pytest.mark.usefixtures("pdf_workers")
async def test_the_fee_notice_uses_the_year_of_approval(client):
    clock.freeze(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # 23:00 in Türkiye: still 2026
    await make_world()
    await seed_registry()
    admin = await login(client, "staff.admin")
    await step(client, SET_FEE, {"input": {"year": 2026, "fee": "10.00"}}, admin)
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(
        client,
        user,
        application_id,
        xlsx([("APPLE", "A2403", imei(APPLE + "900001"), imei(APPLE + "900002"))]),
    )
    await attach_documents(client, user, application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "E_SIGNATURE"}, user)
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    await upload_signed_by_firm(client, user, application_id, form)
    reviewer = await login(client, "staff.reviewer")
    await step(client, TAKE, {"id": application_id}, reviewer)

    # The new year has begun in Türkiye and 2027 has no fee yet: the reviewer is told why.
    clock.freeze(datetime(2026, 12, 31, 21, 30, tzinfo=UTC))
    body = await gql(client, APPROVE, {"id": application_id}, token=reviewer)
    [error] = body["data"]["approveApplication"]["errors"]
    assert error["code"] == "FEE_NOT_DEFINED" and "2027" in error["message"]
    await step(client, SET_FEE, {"input": {"year": 2027, "revaluationRate": "0.33"}}, admin)
    approved = await step(client, APPROVE, {"id": application_id}, reviewer)
    notice = approved["workflow"]["feeNotice"]
    assert (notice["year"], notice["perImei"]["amount"], notice["amount"]["amount"]) == (
        2027,
        "14.00",
        "28.00",
    )
    assert "IMEI başına kayıt ücreti (2027): 14,00 TL" in pdf_text(
        (await download(client, user, notice["fileId"])).content
    )
