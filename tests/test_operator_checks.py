"""Operators check IMEIs at network attach: every status and verdict, in input order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.grace import FirstAttach
from models.network import CloneSuspicion, ImeiPairing
from models.registry import WhitelistStatus
from resolvers.operators.checks import MAX_IMEIS_PER_CHECK
from resolvers.operators.rate_limit import PUBLIC_QUERIES
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import (
    CHECK,
    OPERATOR_TOKEN,
    blacklist,
    brief,
    check,
    imei,
    register_tac,
    unlist,
    whitelist,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()
    await register_tac()
    PUBLIC_QUERIES.clear()


async def test_registered_and_provisional_imeis_are_allowed_with_brand_and_model(client):
    await whitelist(imei(1), brand="SAMSUNG", model="SM-G9359")
    await whitelist(imei(2), status=WhitelistStatus.PROVISIONAL)
    registered, provisional = await check(client, [imei(1), imei(2)])
    assert registered == {
        "imei": imei(1),
        "verdict": "ALLOW",
        "status": "REGISTERED",
        "reason": None,
        "brand": "SAMSUNG",
        "model": "SM-G9359",
        "graceEndsAt": None,
    }
    assert brief(provisional) == ("ALLOW", "PROVISIONAL", None)


async def test_an_unregistered_imei_has_a_grace_period_from_its_first_attach(client):
    [first] = await check(client, [imei(7)], msisdn="+90 533 111 22 33")
    assert brief(first) == ("ALLOW", "GRACE_PERIOD", None)
    ends = START + timedelta(days=120)
    assert datetime.fromisoformat(first["graceEndsAt"]) == ends

    clock.advance(timedelta(days=119, hours=23))
    [later] = await check(client, [imei(7)], msisdn="905331112233")  # no new clock
    assert brief(later) == ("ALLOW", "GRACE_PERIOD", None)
    assert datetime.fromisoformat(later["graceEndsAt"]) == ends

    clock.advance(timedelta(hours=1))
    [over] = await check(client, [imei(7)])
    assert brief(over) == ("BLOCK", "NOT_REGISTERED", None) and over["graceEndsAt"] is None
    [attach] = await FirstAttach.filter(imei=imei(7))
    assert (attach.operator_code, attach.msisdn, attach.source) == (
        "DEMOGSM",
        "905331112233",
        "CHECK",
    )
    assert attach.attached_at == START


async def test_no_grace_period_when_it_is_configured_as_zero(client):
    updated(grace_period_days=0)
    [answer] = await check(client, [imei(8)])
    assert brief(answer) == ("BLOCK", "NOT_REGISTERED", None)


async def test_a_removed_imei_is_blocked_with_the_removal_reason_and_gets_no_grace(client):
    await whitelist(imei(3))
    await unlist(imei(3), reason="Nüfus kaydı doğrulanamadı")
    [answer] = await check(client, [imei(3)])
    assert brief(answer) == ("BLOCK", "NOT_REGISTERED", "Nüfus kaydı doğrulanamadı")


async def test_blacklisted_imeis_are_blocked_with_the_reason(client):
    await whitelist(imei(4))
    await blacklist(imei(4), imei(5))
    listed, unlisted = await check(client, [imei(4), imei(5)])
    assert brief(listed) == ("BLOCK", "BLACKLISTED", "STOLEN")
    assert brief(unlisted) == ("BLOCK", "BLACKLISTED", "STOLEN")


async def test_a_clone_suspect_is_allowed_until_paired_then_only_with_its_number(client):
    await whitelist(imei(9))
    await CloneSuspicion.create(imei=imei(9), imsi_count=2, detected_at=clock.now())
    [suspect] = await check(client, [imei(9)], msisdn="+90 533 111 22 33")
    assert brief(suspect) == ("ALLOW", "CLONE_SUSPECTED", None)

    await ImeiPairing.create(imei=imei(9), msisdn="905331112233", paired_at=clock.now())
    [paired] = await check(client, [imei(9)], msisdn="+90 533 111 22 33")
    assert brief(paired) == ("ALLOW", "PAIRED", None)
    [same] = await check(client, [imei(9)], msisdn="00905331112233")
    assert brief(same) == ("ALLOW", "PAIRED", None)
    [other] = await check(client, [imei(9)], msisdn="+905559998877")
    assert brief(other) == ("BLOCK", "PAIRED", "MSISDN_MISMATCH")
    [none] = await check(client, [imei(9)])
    assert brief(none) == ("BLOCK", "PAIRED", "MSISDN_REQUIRED")
    # The paired number is personal data: never in an answer.
    assert "5331112233" not in str([paired, other, none])


async def test_the_blacklist_wins_over_a_pairing(client):
    await whitelist(imei(10))
    await ImeiPairing.create(imei=imei(10), msisdn="905331112233", paired_at=clock.now())
    await blacklist(imei(10))
    [answer] = await check(client, [imei(10)], msisdn="905331112233")
    assert brief(answer) == ("BLOCK", "BLACKLISTED", "STOLEN")


async def test_answers_follow_the_input_order_with_duplicates_and_normalisation(client):
    await whitelist(imei(11), imei(12))
    registered = imei(11)
    imeisv = registered[:14] + "07"  # IMEISV: no check digit, a 2-digit software version
    inputs = [
        imei(12),
        "abc",
        registered[:14],  # networks send 14 digits
        imeisv,
        imei(12),
        registered[:14] + "0" if registered[14] != "0" else registered[:14] + "1",  # bad Luhn
        "",
        imei(13),
        imei(12),
    ]
    answers = await check(client, inputs)
    assert [(a["imei"], a["status"], a["verdict"]) for a in answers] == [
        (imei(12), "REGISTERED", "ALLOW"),
        ("abc", "INVALID", "BLOCK"),
        (registered, "REGISTERED", "ALLOW"),
        (registered, "REGISTERED", "ALLOW"),
        (imei(12), "REGISTERED", "ALLOW"),
        (inputs[5], "INVALID", "BLOCK"),
        ("", "INVALID", "BLOCK"),
        (imei(13), "GRACE_PERIOD", "ALLOW"),
        (imei(12), "REGISTERED", "ALLOW"),
    ]


async def test_a_big_batch_costs_one_first_attach_per_new_imei(client):
    await whitelist(*[imei(n) for n in range(0, 3000, 2)])
    batch = [imei(n) for n in range(3000)] * 3  # 9,000 answers, 3,000 distinct IMEIs
    answers = await check(client, batch, msisdn="905331112233")
    assert len(answers) == 9000
    assert {a["status"] for a in answers[:3000:2]} == {"REGISTERED"}
    assert {a["status"] for a in answers[1:3000:2]} == {"GRACE_PERIOD"}
    assert answers[3000:6000] == answers[:3000]
    assert await FirstAttach.all().count() == 1500


async def test_more_than_ten_thousand_imeis_are_refused(client):
    body = await gql(
        client,
        CHECK,
        {"imeis": [imei(1)] * (MAX_IMEIS_PER_CHECK + 1)},
        token=OPERATOR_TOKEN,
        expect_status=413,
    )
    assert error_codes(body) == ["PAYLOAD_TOO_LARGE"]
    assert "10000" in body["errors"][0]["message"]


async def test_only_operators_and_staff_check(client):
    await make_world()
    body = await gql(client, CHECK, {"imeis": [imei(1)]}, token=await login(client, "a.user"))
    assert error_codes(body) == ["FORBIDDEN"]
    assert error_codes(await gql(client, CHECK, {"imeis": [imei(1)]})) == ["UNAUTHENTICATED"]
    staff = await gql(
        client,
        CHECK,
        {"imeis": [imei(1)], "msisdn": "905331112233"},
        token=await login(client, "staff.reviewer"),
    )
    assert staff["data"]["checkImeis"][0]["status"] == "GRACE_PERIOD"
    # What the verdict would be; staff attach nothing to a network.
    assert not await FirstAttach.exists()


PUBLIC = "query($imei: String!) { imeiStatus(imei: $imei) { imei registered status brand model } }"


async def test_anyone_can_ask_whether_an_imei_is_registered_without_personal_data(client):
    await whitelist(imei(20), brand="XIAOMI", model="M2101K6G")
    await whitelist(imei(21))
    await ImeiPairing.create(imei=imei(21), msisdn="905331112233", paired_at=clock.now())
    await blacklist(imei(22))
    answers = [
        (await gql(client, PUBLIC, {"imei": value}))["data"]["imeiStatus"]
        for value in (imei(20), imei(21), imei(22), imei(23), "12345")
    ]
    assert answers[0] == {
        "imei": imei(20),
        "registered": True,
        "status": "REGISTERED",
        "brand": "XIAOMI",
        "model": "M2101K6G",
    }
    assert answers[1]["status"] == "REGISTERED"  # no pairing detail
    assert [a["status"] for a in answers[2:]] == ["BLACKLISTED", "NOT_REGISTERED", "INVALID"]
    assert "5331112233" not in str(answers)
    # An anonymous question starts no grace period.
    assert not await FirstAttach.filter(imei=imei(23)).exists()


async def test_the_public_query_is_rate_limited_per_client_address(make_client):
    updated(public_query_rate_per_minute=3)
    citizen, other = make_client(ip="198.51.100.7"), make_client(ip="198.51.100.8")
    for _ in range(3):
        assert "errors" not in await gql(citizen, PUBLIC, {"imei": imei(1)})
    limited = await gql(citizen, PUBLIC, {"imei": imei(1)}, headers={"Accept-Language": "en"})
    assert error_codes(limited) == ["RATE_LIMITED"]
    assert "try again in 20 seconds" in limited["errors"][0]["message"]
    assert "errors" not in await gql(other, PUBLIC, {"imei": imei(1)})
