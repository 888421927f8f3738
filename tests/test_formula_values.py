"""Brand and model values a spreadsheet would run as a formula (OWASP's CSV-injection rule:
a first character of = + - @, tab or CR) never enter the TAC registry, by any way in, and
what older data holds reaches the operators' CSV export quoted, as plain text."""

from __future__ import annotations

import csv
import io

from gateway.demo import load_demo
from models.names import spreadsheet_safe, starts_like_formula
from models.tac import TacModel
from tests.support.api import gql, login, make_world
from tests.support.operators import OPERATOR_TOKEN, imei, whitelist
from tests.test_tac_registry import CREATE, HEADER, UPDATE, import_csv
from tests.test_tac_requests import request_tac


def test_only_the_first_character_makes_a_formula():
    assert not starts_like_formula("SM-G9359")  # a hyphen inside is an ordinary model
    assert not starts_like_formula("A2403")
    for value in ("=1+1", "+905", "-X1", "@SUM(A1)", "\tX", "\rX"):
        assert starts_like_formula(value)
        assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("SM-G9359") == "SM-G9359"


async def test_an_import_refuses_formula_values_by_line_and_column(client):
    await make_world()
    token = await login(client, "staff.admin")
    text = "\n".join(
        [
            HEADER,
            '35000001,"=HYPERLINK(""http://x"",""a"")",A1,,,1',  # line 2: brand
            "35000002,SAMSUNG,+A2,,,1",  # line 3: model
            "35000003,SAMSUNG,-X1,,,1",  # line 4: model starting with a hyphen
            "35000004,@EVIL,A4,,,1",  # line 5: brand
            "35000005,SAMSUNG,SM-G9359,=cmd,,2",  # line 6: marketing name
            "35000006,SAMSUNG,SM-G9359,Galaxy,,2",  # line 7: good, hyphen inside
        ]
    )
    payload = await import_csv(client, token, text + "\n", mode="MERGE")
    assert payload["errors"] == []
    result = payload["result"]
    errors = [(e["line"], e["column"], e["code"]) for e in result["lineErrors"]]
    assert errors == [
        (2, "brand", "FORMULA_VALUE"),
        (3, "model", "FORMULA_VALUE"),
        (4, "model", "FORMULA_VALUE"),
        (5, "brand", "FORMULA_VALUE"),
        (6, "marketing_name", "FORMULA_VALUE"),
    ]
    message = result["lineErrors"][0]["message"]
    assert "marka" in message and "'=' ile başlıyor" in message and "formül" in message
    assert await TacModel.filter(tac="35000006").values_list("model_code", flat=True) == [
        "SM-G9359"
    ]
    assert not await TacModel.filter(tac__in=[f"3500000{i}" for i in range(1, 6)]).exists()


async def test_staff_cannot_create_or_edit_a_model_into_a_formula(client):
    await make_world()
    token = await login(client, "staff.reviewer")
    refused = (
        await gql(
            client,
            CREATE,
            {"i": {"tac": "35111111", "brand": "=1+1", "modelCode": "-X1", "imeiCount": 1}},
            token=token,
            headers={"Accept-Language": "en"},
        )
    )["data"]["createTacModel"]
    assert refused["tacModel"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_INPUT", "brand"),
        ("INVALID_INPUT", "modelCode"),
    ]
    assert "the brand '=1+1' starts with '='" in refused["errors"][0]["message"]
    assert "the model '-X1' starts with '-'" in refused["errors"][1]["message"]

    created = (
        await gql(
            client,
            CREATE,
            {"i": {"tac": "35111111", "brand": "Samsung", "modelCode": "SM-G9359", "imeiCount": 2}},
            token=token,
        )
    )["data"]["createTacModel"]
    assert created["errors"] == [] and created["tacModel"]["modelCode"] == "SM-G9359"
    edited = (
        await gql(client, UPDATE, {"i": {"tac": "35111111", "brand": "@SUM(A1)"}}, token=token)
    )["data"]["updateTacModel"]
    assert [(e["code"], e["field"]) for e in edited["errors"]] == [("INVALID_INPUT", "brand")]
    assert "marka '@SUM(A1)' '@' ile başlıyor" in edited["errors"][0]["message"]
    assert (await TacModel.get(tac="35111111")).brand == "SAMSUNG"


async def test_a_firm_cannot_request_a_tac_for_a_formula_model(client):
    await make_world()
    firm = await login(client, "a.user")
    refused = await request_tac(
        client, firm, {"tac": "35240811", "brand": "Samsung", "modelCode": "+SM1", "imeiCount": 2}
    )
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "modelCode")]
    assert "formül" in refused["errors"][0]["message"]
    accepted = await request_tac(
        client,
        firm,
        {"tac": "35240811", "brand": "Samsung", "modelCode": "SM-S921B", "imeiCount": 2},
    )
    assert accepted["errors"] == []


async def test_old_formula_values_reach_the_whitelist_csv_as_quoted_text(client):
    await load_demo()
    # Written below the validation, as data from before the rule would be.
    await whitelist(imei(1), brand='=HYPERLINK("http://x","y")', model="-X1")
    await whitelist(imei(2), brand="SAMSUNG", model="SM-G9359")
    response = await client.get(
        "/exports/whitelist.csv", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    rows = {row["imei"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert rows[imei(1)]["brand"] == '\'=HYPERLINK("http://x","y")'
    assert rows[imei(1)]["model"] == "'-X1"
    assert rows[imei(2)]["model"] == "SM-G9359"  # a hyphen inside stays as it is
