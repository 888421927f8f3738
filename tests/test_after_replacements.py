"""Mainboard and swap devices (art. 11): the firm that brought in the original device reports
which whitelisted IMEI each held IMEI replaces; operators see the swap at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.demo import load_demo
from models import clock
from models.after import Replacement
from models.audit import AuditEvent
from models.network import CloneSuspicion
from models.progress import HeldImei
from models.workflow import ApplicationKind
from resolvers.settings import updated
from tests.support.after import (
    download,
    hold,
    imei,
    operator_view,
    pdf_text,
    pdf_workers,
    register,
    registered_application,
)
from tests.support.api import error_codes, gql, login, make_world
from tests.support.listed import listed_device
from tests.support.operators import OPERATOR_TOKEN

REPORT = """mutation($pairs: [ReplacementPairInput!]!) {
  reportReplacements(pairs: $pairs) {
    report { id firmId channel status statusLabel lineCount validCount appliedCount letterFileId }
    errors { code field message }
  }
}"""
REPLACEMENTS = """query($imei: String, $app: Int) {
  replacements(imei: $imei, applicationId: $app) {
    items { oldImei newImei applicationId oldApplicationId kind brand model replacedBy }
  }
}"""
HELD = "{ heldImeis { items { imei kind model } } }"
WHITELIST_FEED = """{ whitelistChanges(first: 100) { items { op imei source reason } } }"""
PAIRING_FEED = """{ pairingChanges(first: 100) { items { op imei msisdn reason } } }"""
PAIR = """mutation($imei: String!, $msisdn: String!) {
  pairImei(imei: $imei, msisdn: $msisdn) { pairing { imei msisdn } errors { code field } }
}"""

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

OLD, OTHER_OLD, B_OLD = imei(1), imei(2), imei(3)
NEW, OTHER_NEW, B_NEW = imei(101), imei(102), imei(103)


@pytest.fixture
async def world(db, settings):
    clock.freeze(NOW)  # letter numbers and file names carry the year
    updated(grace_period_days=0)  # an unlisted IMEI is simply NOT_REGISTERED
    world = await make_world()
    await load_demo()
    imports = await registered_application(world.firm_a)
    await register(imports, OLD, OTHER_OLD)
    mainboards = await registered_application(world.firm_a, ApplicationKind.MAINBOARD)
    await hold(mainboards, NEW, OTHER_NEW, brand="APPLE", model="A2403-MB")
    b_imports = await registered_application(world.firm_b)
    await register(b_imports, B_OLD)
    b_swaps = await registered_application(world.firm_b, ApplicationKind.SWAP)
    await hold(b_swaps, B_NEW)
    world.apps = {"imports": imports, "mainboards": mainboards, "b_imports": b_imports}
    return world


async def report(client, token, *pairs):
    body = await gql(
        client,
        REPORT,
        {"pairs": [{"oldImei": old, "newImei": new} for old, new in pairs]},
        token=token,
    )
    assert "errors" not in body, body
    return body["data"]["reportReplacements"]


async def test_the_original_importer_swaps_a_whitelisted_imei_for_a_held_one(client, world):
    assert await operator_view(client, OLD, NEW) == {
        OLD: ("ALLOW", "REGISTERED", None),
        NEW: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    token = await login(client, "a.user")
    held = await gql(client, HELD, token=token)
    assert {h["imei"] for h in held["data"]["heldImeis"]["items"]} == {NEW, OTHER_NEW}

    payload = await report(client, token, (OLD, NEW))

    assert payload["errors"] == []
    done = payload["report"]
    assert (done["channel"], done["status"], done["statusLabel"]) == (
        "DIRECT",
        "APPLIED",
        "Uygulandı",
    )
    assert (done["lineCount"], done["validCount"], done["appliedCount"]) == (1, 1, 1)
    assert await operator_view(client, OLD, NEW) == {
        OLD: ("BLOCK", "NOT_REGISTERED", "REPLACED"),
        NEW: ("ALLOW", "REGISTERED", None),
    }
    feed = await gql(client, WHITELIST_FEED, token=OPERATOR_TOKEN)
    assert feed["data"]["whitelistChanges"]["items"][-2:] == [
        {"op": "REMOVE", "imei": OLD, "source": "FIRM_APPLICATION", "reason": "REPLACED"},
        {
            "op": "ADD",
            "imei": NEW,
            "source": "REPLACEMENT",
            "reason": f"MCKS-DG-2026-{done['id']:06d}",
        },
    ]
    # The held row is consumed; its history is the replacement.
    assert (await gql(client, HELD, token=token))["data"]["heldImeis"]["items"] == [
        {"imei": OTHER_NEW, "kind": "MAINBOARD", "model": "A2403-MB"}
    ]
    history = await gql(client, REPLACEMENTS, {"imei": NEW}, token=token)
    assert history["data"]["replacements"]["items"] == [
        {
            "oldImei": OLD,
            "newImei": NEW,
            "applicationId": world.apps["mainboards"].id,
            "oldApplicationId": world.apps["imports"].id,
            "kind": "MAINBOARD",
            "brand": "APPLE",
            "model": "A2403-MB",
            "replacedBy": "a.user",
        }
    ]
    letter = await download(client, token, f"/files/{done['letterFileId']}")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    text = pdf_text(letter.content)
    assert "Anakart ve Takas Cihaz Değişim Bildirimi Sonucu" in text
    assert "Anadolu Mobil A.Ş." in text and OLD in text and NEW in text
    assert "beyaz listeden çıkarılmış" in text
    event = await AuditEvent.get(action="replacement_report.applied")
    assert event.details["pairs"] == [[OLD, NEW]] and event.firm_id == world.firm_a.id
    # Firm B sees none of it.
    b_token = await login(client, "b.user")
    hidden = await gql(
        client,
        "query($id: Int!) { replacementReport(id: $id) { id } }",
        {"id": done["id"]},
        token=b_token,
    )
    assert error_codes(hidden) == ["NOT_FOUND"]
    b_held = await gql(client, HELD, token=b_token)
    assert [h["imei"] for h in b_held["data"]["heldImeis"]["items"]] == [B_NEW]
    assert (await gql(client, REPLACEMENTS, {"imei": NEW}, token=b_token))["data"]["replacements"][
        "items"
    ] == []
    assert (await download(client, b_token, f"/files/{done['letterFileId']}")).status_code == 404


async def test_a_firm_cannot_replace_another_firms_imei(client, world):
    token = await login(client, "a.user")

    payload = await report(client, token, (B_OLD, NEW))

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("IMEI_OF_ANOTHER_FIRM", "pairs.0.oldImei")
    ]
    assert "yalnızca cihazı ithal eden ya da üreten firma" in payload["errors"][0]["message"]
    assert payload["report"] is None
    assert await operator_view(client, B_OLD, NEW) == {
        B_OLD: ("ALLOW", "REGISTERED", None),
        NEW: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    assert await HeldImei.exists(imei=NEW)


async def test_a_new_imei_is_used_once(client, world):
    token = await login(client, "a.super")
    assert (await report(client, token, (OLD, NEW)))["errors"] == []

    again = await report(client, token, (OTHER_OLD, NEW))

    [error] = again["errors"]
    assert (error["code"], error["field"]) == ("IMEI_ALREADY_USED", "pairs.0.newImei")
    assert OLD in error["message"]  # "… daha önce <old> yerine bildirildi"
    assert await operator_view(client, OTHER_OLD) == {OTHER_OLD: ("ALLOW", "REGISTERED", None)}
    assert await Replacement.filter(new_imei=NEW).count() == 1


async def test_every_pair_is_applied_or_none(client, world):
    token = await login(client, "a.user")

    payload = await report(
        client,
        token,
        (OLD, NEW),  # fine on its own
        (OTHER_OLD, B_NEW),  # held, but by firm B
        (imei(50), OTHER_NEW),  # never registered
        ("35407115000011", OTHER_NEW),  # 14 digits; and OTHER_NEW twice
    )

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("IMEI_NOT_HELD", "pairs.1.newImei"),
        ("INVALID_INPUT", "pairs.2"),
        ("INVALID_INPUT", "pairs.3.oldImei"),
    ]
    assert "birden fazla" in payload["errors"][1]["message"]
    assert await operator_view(client, OLD, NEW) == {
        OLD: ("ALLOW", "REGISTERED", None),
        NEW: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    assert await HeldImei.filter(firm_id=world.firm_a.id).count() == 2
    assert not await Replacement.exists()


async def test_replacing_a_paired_imei_ends_its_pairing(client, world):
    await CloneSuspicion.create(
        imei=OLD,
        firm_id=world.firm_a.id,
        imsi_count=2,
        detected_at=world.apps["imports"].created_at,
    )
    token = await login(client, "a.user")
    paired = await gql(client, PAIR, {"imei": OLD, "msisdn": "+90 532 111 22 33"}, token=token)
    assert paired["data"]["pairImei"]["errors"] == []
    assert await operator_view(client, OLD, msisdn="+905321112233") == {
        OLD: ("ALLOW", "PAIRED", None)
    }

    assert (await report(client, token, (OLD, NEW)))["errors"] == []

    assert await operator_view(client, OLD, msisdn="+905321112233") == {
        OLD: ("BLOCK", "NOT_REGISTERED", "REPLACED")
    }
    feed = await gql(client, PAIRING_FEED, token=OPERATOR_TOKEN)
    assert feed["data"]["pairingChanges"]["items"] == [
        {"op": "ADD", "imei": OLD, "msisdn": "905321112233", "reason": "CLONE_SUSPECTED"},
        {"op": "REMOVE", "imei": OLD, "msisdn": "905321112233", "reason": "REPLACED"},
    ]
    event = await AuditEvent.get(action="replacement_report.applied")
    assert event.details["endedPairings"] == [OLD]


@pytest.mark.parametrize("who", ["staff.reviewer", "operator"])
async def test_only_firms_report_replacements(client, world, who):
    token = OPERATOR_TOKEN if who == "operator" else await login(client, who)
    body = await gql(client, REPORT, {"pairs": [{"oldImei": OLD, "newImei": NEW}]}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]


SAMSUNG_TAC = "35332811"  # the demo registry's SAMSUNG SM-G9359


async def test_a_held_imei_replaces_an_imei_of_the_same_model_only(client, world):
    """Art. 11: a mainboard/swap IMEI stands in for an IMEI of its own model — declared as
    the same brand and model, or carrying a TAC the registry gives that model."""
    swaps = await registered_application(world.firm_a, ApplicationKind.SWAP)
    samsung, same_name = imei(301, tac=SAMSUNG_TAC), imei(302, tac="35999999")
    await hold(swaps, samsung, brand="SAMSUNG", model="SM-G9359")
    await hold(swaps, same_name, brand="apple", model="a2403")  # unknown TAC, same model
    token = await login(client, "a.user")

    refused = await report(client, token, (OLD, samsung))

    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "pairs.0")
    assert f"{OLD} → {samsung}" in error["message"]
    assert "marka/modeline ait değil" in error["message"]
    assert await operator_view(client, OLD) == {OLD: ("ALLOW", "REGISTERED", None)}
    # The same brand and model as declared; and a mainboard model with the phone's TAC.
    accepted = await report(client, token, (OLD, same_name), (OTHER_OLD, NEW))
    assert accepted["errors"] == []
    assert await Replacement.filter(old_imei__in=[OLD, OTHER_OLD]).count() == 2


async def test_both_imeis_of_a_dual_imei_device_are_replaced_together(client, world):
    phones = await registered_application(world.firm_a)
    first, second = imei(401), imei(402)
    await listed_device(phones.id, 2, first, second)
    await register(phones, first, second)
    boards = await registered_application(world.firm_a, ApplicationKind.MAINBOARD)
    board_1, board_2, board_3, board_4 = imei(501), imei(502), imei(503), imei(504)
    await listed_device(boards.id, 1, board_1, board_2)
    await listed_device(boards.id, 2, board_3, board_4)
    await hold(boards, board_1, board_2, board_3, board_4)
    single_1, single_2 = imei(601), imei(602)  # two single-IMEI mainboards
    await hold(boards, single_1, single_2)
    token = await login(client, "a.user")

    # One IMEI of the phone: the report lacks its other IMEI and the board's other IMEI.
    half = await report(client, token, (first, board_1))
    [error] = half["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "pairs.0")
    assert "birlikte değiştirilmeli" in error["message"]
    assert f"bildirimde eksik: {second}, {board_2}" in error["message"]
    # Both IMEIs, but to two different boards.
    split = await report(client, token, (first, single_1), (second, single_2))
    assert [e["field"] for e in split["errors"]] == ["pairs.0", "pairs.1"]
    assert "tek bir anakart/takas cihazın" in split["errors"][0]["message"]
    crossed = await report(client, token, (first, board_1), (second, board_3))
    assert len(crossed["errors"]) == 2 and board_2 in crossed["errors"][0]["message"]
    assert await operator_view(client, first, second) == {
        first: ("ALLOW", "REGISTERED", None),
        second: ("ALLOW", "REGISTERED", None),
    }

    whole = await report(client, token, (first, board_1), (second, board_2))

    assert whole["errors"] == []
    assert await operator_view(client, first, second, board_1, board_2) == {
        first: ("BLOCK", "NOT_REGISTERED", "REPLACED"),
        second: ("BLOCK", "NOT_REGISTERED", "REPLACED"),
        board_1: ("ALLOW", "REGISTERED", None),
        board_2: ("ALLOW", "REGISTERED", None),
    }
