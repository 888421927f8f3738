"""The TAC registry: staff load it from CSV and keep it by hand; firms read it; the analysis
looks models up by TAC (legacy 6-digit TACs as prefixes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models import clock
from models.audit import AuditEvent
from models.names import brand_model_key, normalise_brand_model
from models.roles import ClientKind
from models.tac import TacModel
from resolvers.accounts import admin
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.tac.csv_import import import_tac_csv
from resolvers.tac.registry import models_for_tacs
from tests.support.api import error_codes, gql, login, make_world

IMPORT = """mutation($file: Upload!, $mode: TacImportMode! = REPLACE, $force: Boolean! = false) {
  importTacModels(file: $file, mode: $mode, force: $force) {
    result { mode forced dataLines inserted updated reactivated retired unchanged lineErrorCount
             lineErrors { line column code message } }
    errors { code field message }
  }
}"""
TAC_MODEL = """query($tac: String!) {
  tacModel(tac: $tac) { tac brand modelCode marketingName deviceType imeiCount isActive createdAt updatedAt }
}"""
TAC_MODELS = """query($f: TacModelFilterInput, $first: Int! = 50, $after: String) {
  tacModels(filter: $f, first: $first, after: $after) {
    items { tac brand modelCode isActive } pageInfo { endCursor hasNextPage }
  }
}"""
MODEL_FIELDS = "tacModel { tac brand modelCode marketingName deviceType imeiCount isActive } errors { code field message }"
CREATE = f"mutation($i: TacModelInput!) {{ createTacModel(input: $i) {{ {MODEL_FIELDS} }} }}"
UPDATE = f"mutation($i: UpdateTacModelInput!) {{ updateTacModel(input: $i) {{ {MODEL_FIELDS} }} }}"
RETIRE = f"mutation($t: String!) {{ retireTacModel(tac: $t) {{ {MODEL_FIELDS} }} }}"
REACTIVATE = f"mutation($t: String!) {{ reactivateTacModel(tac: $t) {{ {MODEL_FIELDS} }} }}"

HEADER = "tac,brand,model,marketing_name,device_type,imei_count"


async def upload(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]],
    token: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A GraphQL multipart request (the upload spec), as a browser portal sends it."""
    operations = {"query": query, "variables": {**variables, **dict.fromkeys(files)}}
    mapping = {str(i): [f"variables.{name}"] for i, name in enumerate(files)}
    form: dict[str, Any] = {
        "operations": (None, json.dumps(operations)),
        "map": (None, json.dumps(mapping)),
    }
    for i, part in enumerate(files.values()):
        form[str(i)] = part
    response = await client.post(
        "/graphql",
        files=form,
        headers={"X-MCKS-Upload": "1", "Authorization": f"Bearer {token}", **(headers or {})},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def import_csv(
    client: httpx.AsyncClient, token: str, text: str | bytes, **variables: Any
) -> dict[str, Any]:
    content = text.encode() if isinstance(text, str) else text
    body = await upload(
        client, IMPORT, variables, {"file": ("tacs.csv", content, "text/csv")}, token
    )
    payload: dict[str, Any] = body["data"]["importTacModels"]
    return payload


def registry_csv(count: int, start: int = 35000000, model_suffix: str = "") -> str:
    lines = [HEADER]
    for i in range(count):
        lines.append(f"{start + i},Samsung,SM-A{i:03d}{model_suffix},Galaxy A{i},Smartphone,2")
    return "\n".join(lines) + "\n"


async def active_tacs() -> set[str]:
    return {m.tac for m in await TacModel.filter(is_active=True)}


# --- import ------------------------------------------------------------------------------


async def test_an_import_reports_bad_lines_by_number_and_applies_the_good_ones(client):
    await make_world()
    token = await login(client, "staff.admin")
    # Semicolons, a BOM, columns in another order, header case and spacing as people type
    # them, an unknown column, a blank line.
    text = (
        "\ufeffIMEI Count;TAC;Brand;Model;Renk;Marketing_Name\n"
        "2;35123456;  samsung ;sm-g991b;siyah;Galaxy S21\n"  # line 2: good
        "1;3512345;Apple;A2403;;iPhone 12\n"  # line 3: 7 digits (Excel ate a zero?)
        "5;35999999;Apple;A2403;;iPhone 12\n"  # line 4: 5 SIM slots
        "\n"
        "1;86000001;;X1;;\n"  # line 6: no brand
        "1;35123456;Samsung;SM-G991B;;dup\n"  # line 7: TAC already on line 2
        "1;01234567;Nokia;TA-1203;;Nokia 105\n"  # line 8: good, leading zero kept
        "2;867530;Xiaomi;M2101K6G;;Redmi Note 10\n"  # line 9: good legacy 6-digit TAC
    )
    payload = await import_csv(client, token, text.encode("utf-8"), mode="MERGE")
    assert payload["errors"] == []
    result = payload["result"]
    assert (result["inserted"], result["updated"], result["retired"]) == (3, 0, 0)
    assert result["dataLines"] == 7 and result["lineErrorCount"] == 4
    errors = [(e["line"], e["column"], e["code"]) for e in result["lineErrors"]]
    assert errors == [
        (3, "TAC", "INVALID_TAC"),
        (4, "IMEI Count", "INVALID_IMEI_COUNT"),
        (6, "Brand", "MISSING_VALUE"),
        (7, "TAC", "DUPLICATE_TAC"),
    ]
    messages = {e["line"]: e["message"] for e in result["lineErrors"]}
    assert "baştaki sıfır" in messages[3]
    assert "2. satırda" in messages[7]

    assert await active_tacs() == {"35123456", "01234567", "867530"}
    galaxy = (await gql(client, TAC_MODEL, {"tac": "35123456"}, token=token))["data"]["tacModel"]
    assert galaxy["brand"] == "SAMSUNG" and galaxy["modelCode"] == "SM-G991B"
    assert galaxy["marketingName"] == "Galaxy S21" and galaxy["imeiCount"] == 2
    assert galaxy["deviceType"] == ""  # optional column absent from the file

    event = await AuditEvent.get(action="tac.imported")
    assert event.details["inserted"] == 3 and event.details["lineErrors"] == 4
    assert event.details["mode"] == "MERGE" and event.details["fileName"] == "tacs.csv"


async def test_messages_follow_the_callers_language(client):
    await make_world()
    token = await login(client, "staff.admin")
    body = await upload(
        client,
        IMPORT,
        {"mode": "MERGE"},
        {"file": ("t.csv", f"{HEADER}\n35123456,A,B,,,9\n".encode(), "text/csv")},
        token,
        headers={"Accept-Language": "en"},
    )
    [error] = body["data"]["importTacModels"]["result"]["lineErrors"]
    assert error["message"] == "the IMEI count must be a whole number from 1 to 4: '9'"


async def test_a_re_import_updates_in_place_and_retires_what_the_file_no_longer_lists(client):
    await make_world()
    token = await login(client, "staff.admin")
    clock.freeze(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    first = await import_csv(client, token, registry_csv(20))
    assert first["result"]["inserted"] == 20 and first["result"]["mode"] == "REPLACE"
    before = {m.tac: m for m in await TacModel.all()}

    clock.advance(timedelta(days=30))
    lines = registry_csv(20).splitlines()
    lines[1] = "35000000,Samsung,SM-A000F,Galaxy A0 (2025),Smartphone,1"  # corrected
    del lines[20]  # 35000019 is no longer in the registry file
    again = await import_csv(client, token, "\n".join(lines) + "\n")
    result = again["result"]
    assert (result["inserted"], result["updated"], result["retired"], result["unchanged"]) == (
        0,
        1,
        1,
        18,
    )
    after = {m.tac: m for m in await TacModel.all()}
    corrected = after["35000000"]
    assert corrected.id == before["35000000"].id  # in place, not a new row
    assert (corrected.model_code, corrected.imei_count) == ("SM-A000F", 1)
    assert corrected.created_at == before["35000000"].created_at
    assert corrected.updated_at == datetime(2025, 3, 31, 9, 0, tzinfo=UTC)
    assert after["35000001"].updated_at == before["35000001"].updated_at  # untouched
    assert not after["35000019"].is_active

    # Back in the next file: the same row comes back to life.
    third = await import_csv(client, token, registry_csv(20))
    assert third["result"]["reactivated"] == 1 and third["result"]["updated"] == 1
    assert (await TacModel.get(tac="35000019")).is_active


async def test_an_import_that_would_retire_a_large_share_is_refused_unless_forced(client):
    await make_world()
    token = await login(client, "staff.admin")
    await import_csv(client, token, registry_csv(20))
    truncated = registry_csv(20).splitlines()[:11]  # header + 10: half the registry missing

    refused = await import_csv(client, token, "\n".join(truncated) + "\n")
    assert refused["result"] is None
    [error] = refused["errors"]
    assert error["code"] == "TAC_RETIRE_LIMIT_EXCEEDED" and error["field"] == "force"
    assert "20 etkin TAC kaydından 10 tanesini" in error["message"] and "%50" in error["message"]
    assert len(await active_tacs()) == 20  # nothing changed
    assert await AuditEvent.filter(action="tac.imported").count() == 1  # the first import only

    forced = await import_csv(client, token, "\n".join(truncated) + "\n", force=True)
    assert forced["errors"] == []
    assert forced["result"]["retired"] == 10 and forced["result"]["forced"] is True
    assert len(await active_tacs()) == 10


async def test_the_retire_limit_is_a_share_of_the_active_registry(db):
    system = Actor.system("test")
    await import_tac_csv(system, registry_csv(10).encode())
    nine = "\n".join(registry_csv(10).splitlines()[:10]) + "\n"
    # One in ten is exactly the default limit: allowed. A stricter limit refuses it.
    with pytest.raises(DomainError) as refused:
        await import_tac_csv(system, nine.encode(), max_retire_share=0.05)
    assert refused.value.code == ErrorCode.TAC_RETIRE_LIMIT_EXCEEDED
    result = await import_tac_csv(system, nine.encode())
    assert result.retired == 1


async def test_merge_adds_and_updates_but_retires_nothing(client):
    await make_world()
    token = await login(client, "staff.admin")
    await import_csv(client, token, registry_csv(20))
    batch = f"{HEADER}\n35000003,Samsung,SM-A003B,Galaxy A3,Smartphone,2\n86111111,Vestel,V1,,,1\n"
    merged = await import_csv(client, token, batch, mode="MERGE")
    result = merged["result"]
    assert (result["inserted"], result["updated"], result["retired"]) == (1, 1, 0)
    assert result["mode"] == "MERGE"
    assert len(await active_tacs()) == 21


async def test_a_known_tac_on_a_refused_line_is_left_alone_not_retired(client):
    await make_world()
    token = await login(client, "staff.admin")
    await import_csv(client, token, registry_csv(20))
    lines = registry_csv(20).splitlines()
    lines[5] = "35000004,Samsung,SM-A004,Galaxy A4,Smartphone,two"  # a typo on a known TAC
    result = (await import_csv(client, token, "\n".join(lines) + "\n"))["result"]
    assert result["lineErrorCount"] == 1 and result["retired"] == 0
    kept = await TacModel.get(tac="35000004")
    assert kept.is_active and kept.imei_count == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "dosya boş"),
        (b"\n\n  \n", "dosya boş"),
        (b"tac,brand,model\n35123456,A,B\n", "zorunlu sütunlar eksik: imei_count"),
        (b"35123456,Samsung,SM-1,2\n", "başlık satırı yok"),
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-an-xlsx", "Excel"),
        (b"%PDF-1.7 not a csv", "CSV değil"),
        (b"tac,TAC,brand,model,imei_count\n", "iki kez"),
    ],
)
async def test_file_level_problems_refuse_the_whole_import(client, content, reason):
    await make_world()
    token = await login(client, "staff.admin")
    await import_csv(client, token, registry_csv(3))
    payload = await import_csv(client, token, content)
    assert payload["result"] is None
    [error] = payload["errors"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == "file"
    assert reason in error["message"]
    assert len(await active_tacs()) == 3
    assert await AuditEvent.filter(action="tac.imported").count() == 1


async def test_a_turkish_excel_csv_in_windows_1254_with_tabs_is_read(client):
    await make_world()
    token = await login(client, "staff.admin")
    text = (
        "tac\tbrand\tmodel\timei_count\tdevice_type\n35555555\tışık\tçağrı x1\t1\tAkıllı telefon\n"
    )
    payload = await import_csv(client, token, text.encode("cp1254"), mode="MERGE")
    assert payload["result"]["inserted"] == 1, payload
    model = await TacModel.get(tac="35555555")
    assert (model.brand, model.model_code) == ("IŞIK", "ÇAĞRI X1")
    assert model.device_type == "Akıllı telefon"


def test_brand_and_model_are_normalised_with_turkish_upper_case():
    assert normalise_brand_model("  galaxy\t s21\u00a0ultra ") == "GALAXY S21 ULTRA"
    assert normalise_brand_model("vestel venüs ışık") == "VESTEL VENÜS IŞIK"
    assert normalise_brand_model("bilgi") == "BİLGİ"
    # The comparison key does not care which capital I a name ended up with.
    assert brand_model_key("Xiaomi") == brand_model_key("XIAOMI") == "XIAOMI"


# --- lookups for the analysis ------------------------------------------------------------


async def test_models_for_tacs_prefers_the_exact_tac_then_the_legacy_prefix(db):
    system = Actor.system("test")
    text = (
        f"{HEADER}\n"
        "35123456,Samsung,SM-G991B,,,2\n"
        "351234,Samsung,SM-OLD,,,1\n"  # legacy: every 351234xx without its own entry
        "35777777,Apple,A2403,,,1\n"
        "357777,Apple,A-OLD,,,1\n"
    )
    await import_tac_csv(system, text.encode())
    await TacModel.filter(tac="35777777").update(is_active=False)  # retired: the prefix answers

    found = await models_for_tacs(["35123456", "35123499", "35777777", "99999999", "35123456"])
    assert {tac: m.model_code for tac, m in found.items()} == {
        "35123456": "SM-G991B",
        "35123499": "SM-OLD",
        "35777777": "A-OLD",
    }
    await TacModel.filter(tac="351234").update(is_active=False)
    assert set(await models_for_tacs(["35123499"])) == set()


async def test_models_for_tacs_handles_more_tacs_than_one_query_takes(db):
    system = Actor.system("test")
    await import_tac_csv(system, registry_csv(2500).encode())
    wanted = [str(35000000 + i) for i in range(0, 2500, 2)] + [
        str(36000000 + i) for i in range(1200)
    ]
    found = await models_for_tacs(wanted)
    assert len(found) == 1250
    assert found["35002498"].model_code == "SM-A2498"


# --- staff keep the registry by hand -----------------------------------------------------


async def test_staff_add_correct_retire_and_reactivate_a_model(client):
    await make_world()
    token = await login(client, "staff.reviewer")
    created = (
        await gql(
            client,
            CREATE,
            {
                "i": {
                    "tac": " 35111111 ",
                    "brand": "vestel  venüs",
                    "modelCode": "v 22",
                    "imeiCount": 2,
                }
            },
            token=token,
        )
    )["data"]["createTacModel"]
    assert created["errors"] == []
    assert created["tacModel"] == {
        "tac": "35111111",
        "brand": "VESTEL VENÜS",
        "modelCode": "V 22",
        "marketingName": "",
        "deviceType": "",
        "imeiCount": 2,
        "isActive": True,
    }
    again = (
        await gql(
            client,
            CREATE,
            {"i": {"tac": "35111111", "brand": "X", "modelCode": "Y", "imeiCount": 1}},
            token=token,
        )
    )["data"]["createTacModel"]
    assert again["errors"][0]["code"] == "ALREADY_EXISTS" and again["errors"][0]["field"] == "tac"

    updated = (
        await gql(
            client,
            UPDATE,
            {"i": {"tac": "35111111", "marketingName": "Venüs V 22 Pro", "imeiCount": 1}},
            token=token,
        )
    )["data"]["updateTacModel"]
    assert updated["tacModel"]["marketingName"] == "Venüs V 22 Pro"
    assert updated["tacModel"]["imeiCount"] == 1 and updated["tacModel"]["brand"] == "VESTEL VENÜS"

    retired = (await gql(client, RETIRE, {"t": "35111111"}, token=token))["data"]["retireTacModel"]
    assert retired["tacModel"]["isActive"] is False
    twice = (await gql(client, RETIRE, {"t": "35111111"}, token=token))["data"]["retireTacModel"]
    assert twice["errors"][0]["code"] == "INVALID_STATE"
    assert await models_for_tacs(["35111111"]) == {}

    recreate = (
        await gql(
            client,
            CREATE,
            {"i": {"tac": "35111111", "brand": "X", "modelCode": "Y", "imeiCount": 1}},
            token=token,
        )
    )["data"]["createTacModel"]
    assert "yeniden etkinleştirebilirsiniz" in recreate["errors"][0]["message"]

    back = (await gql(client, REACTIVATE, {"t": "35111111"}, token=token))["data"]
    assert back["reactivateTacModel"]["tacModel"]["isActive"] is True
    assert set(await models_for_tacs(["35111111"])) == {"35111111"}

    actions = (
        await AuditEvent.filter(subject_type="TacModel", subject_id="35111111")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["tac.created", "tac.updated", "tac.retired", "tac.reactivated"]
    change = await AuditEvent.get(action="tac.updated")
    assert change.details["imeiCount"] == {"from": 2, "to": 1}
    assert change.actor_name == "staff.reviewer"


async def test_every_bad_field_of_a_new_model_is_named(client):
    await make_world()
    token = await login(client, "staff.admin")
    payload = (
        await gql(
            client,
            CREATE,
            {"i": {"tac": "12-34", "brand": "  ", "modelCode": "M" * 129, "imeiCount": 0}},
            token=token,
        )
    )["data"]["createTacModel"]
    assert payload["tacModel"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INVALID_INPUT", "tac"),
        ("INVALID_INPUT", "brand"),
        ("INVALID_INPUT", "modelCode"),
        ("INVALID_INPUT", "imeiCount"),
    ]
    assert await TacModel.all().count() == 0


async def test_the_registry_is_listed_with_filters_page_by_page(client):
    await make_world()
    token = await login(client, "a.user")  # firms read the registry too
    await import_tac_csv(
        Actor.system("test"),
        (
            registry_csv(5)
            + "86000001,Xiaomi,M2101K6G,,,2\n86000002,Xiaomi,2201117TG,,,2\n86100003,Apple,A2403,,,1\n"
        ).encode(),
    )
    await TacModel.filter(tac="86000002").update(is_active=False)

    async def tacs(where: dict[str, Any]) -> list[str]:
        body = await gql(client, TAC_MODELS, {"f": where}, token=token)
        return [m["tac"] for m in body["data"]["tacModels"]["items"]]

    assert await tacs({"tacPrefix": "860"}) == ["86000001", "86000002"]
    assert await tacs({"tacPrefix": "860", "active": True}) == ["86000001"]
    assert await tacs({"brand": " samsung "}) == [str(35000000 + i) for i in range(5)]
    assert await tacs({"model": "sm-a00"}) == [str(35000000 + i) for i in range(5)]
    assert await tacs({"model": "A2403"}) == ["86100003"]
    bad = await gql(client, TAC_MODELS, {"f": {"tacPrefix": "35x"}}, token=token)
    assert error_codes(bad) == ["INVALID_INPUT"]

    seen: list[str] = []
    after = None
    while True:
        body = await gql(client, TAC_MODELS, {"first": 3, "after": after}, token=token)
        page = body["data"]["tacModels"]
        seen += [m["tac"] for m in page["items"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 8 and len(set(seen)) == 8

    missing = await gql(client, TAC_MODEL, {"tac": "99999999"}, token=token)
    assert error_codes(missing) == ["NOT_FOUND"]


# --- who may do what ---------------------------------------------------------------------


async def test_firms_read_but_never_edit_and_machine_clients_do_not_read(client):
    await make_world()
    await import_tac_csv(Actor.system("test"), registry_csv(3).encode())
    firm = await login(client, "a.super")
    assert (await gql(client, TAC_MODEL, {"tac": "35000001"}, token=firm))["data"]["tacModel"][
        "brand"
    ] == "SAMSUNG"
    for query, variables in [
        (CREATE, {"i": {"tac": "35999999", "brand": "X", "modelCode": "Y", "imeiCount": 1}}),
        (UPDATE, {"i": {"tac": "35000001", "brand": "X"}}),
        (RETIRE, {"t": "35000001"}),
        (REACTIVATE, {"t": "35000001"}),
    ]:
        assert error_codes(await gql(client, query, variables, token=firm)) == ["FORBIDDEN"]
    refused = await upload(
        client, IMPORT, {}, {"file": ("t.csv", registry_csv(1).encode(), "text/csv")}, firm
    )
    assert error_codes(refused) == ["FORBIDDEN"]

    # A full import can retire thousands of models: administrators only.
    reviewer = await login(client, "staff.reviewer")
    refused = await upload(
        client, IMPORT, {}, {"file": ("t.csv", registry_csv(1).encode(), "text/csv")}, reviewer
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    archive = await login(client, "staff.archive")
    assert error_codes(await gql(client, RETIRE, {"t": "35000001"}, token=archive)) == ["FORBIDDEN"]
    assert (await gql(client, TAC_MODELS, {}, token=archive))["data"]["tacModels"]["items"]

    _, issued = await admin.create_client(
        Actor.system("test"), "GSM Bir", ClientKind.OPERATOR, "GSM1"
    )
    for query, variables in [(TAC_MODEL, {"tac": "35000001"}), (TAC_MODELS, {})]:
        body = await gql(client, query, variables, token=issued.token)
        assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    assert len(await active_tacs()) == 3
