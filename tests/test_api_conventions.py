"""API conventions: masked unexpected errors, query limits, introspection, SDL, health."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from graphql import GraphQLObjectType

from resolvers.accounts import admin
from resolvers.settings import configure, get_settings
from schema import SDL_PATH, build_schema, export_sdl
from schema.permissions import Requires
from tests.support.api import error_codes, gql, login, make_world


async def test_an_unexpected_failure_reaches_the_client_only_as_a_request_id(
    client, monkeypatch, caplog
):
    await make_world()
    token = await login(client, "staff.admin")

    async def explode(*args, **kwargs):
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(admin, "list_firms", explode)
    response = await client.post(
        "/graphql",
        json={"query": "{ firms { items { id } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    request_id = response.headers["x-request-id"]
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": request_id}
    assert request_id in error["message"]
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert any(
        "hunter2" in (r.exc_text or "") and request_id in r.getMessage() for r in caplog.records
    )


async def test_deep_queries_are_refused(client, settings):
    configure(replace(settings, max_query_depth=1))
    query = "{ viewer { user { id } } a: viewer { user { id } } }"
    body = await gql(client, query)
    assert body["errors"][0]["message"] == (
        "Adsız işlem izin verilen en fazla 1 iç içe alan derinliğini aşıyor."
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    english = await gql(client, query, headers={"Accept-Language": "en"})
    assert "depth" in english["errors"][0]["message"]


async def test_too_many_aliases_are_refused(client, settings):
    configure(replace(settings, max_aliases=3))
    query = "{ " + " ".join(f'a{i}: enumLabels(enum: "Role") {{ value }}' for i in range(5)) + " }"
    body = await gql(client, query)
    assert body["errors"][0]["message"] == "Sorguda 5 takma ad (alias) var; en fazla 3 olabilir."


async def test_too_many_tokens_are_refused(client, settings):
    configure(replace(settings, max_query_tokens=50))
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    body = await gql(client, query, expect_status=None)
    assert body["errors"] and "token" in body["errors"][0]["message"].lower()


INTROSPECT = "{ __schema { queryType { name } } }"


async def test_introspection_only_for_staff_outside_development(client, settings):
    await make_world()
    anonymous = await gql(client, INTROSPECT)
    assert set(error_codes(anonymous)) == {"FORBIDDEN"} and anonymous.get("data") is None
    firm = await gql(client, INTROSPECT, token=await login(client, "a.user"))
    assert set(error_codes(firm)) == {"FORBIDDEN"}
    staff = await gql(client, INTROSPECT, token=await login(client, "staff.reviewer"))
    assert staff["data"]["__schema"]["queryType"]["name"] == "Query"
    configure(replace(settings, env="development"))
    assert (await gql(client, INTROSPECT))["data"]["__schema"]["queryType"]["name"] == "Query"


def test_the_committed_sdl_matches_the_code():
    assert SDL_PATH.read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql is stale: run `mcks export-schema`"
    )


def test_the_stale_sdl_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch):
    from gateway import cli

    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n", encoding="utf-8")
    monkeypatch.setattr(cli, "SDL_PATH", stale)
    assert cli.main(["export-schema", "--check"]) == 1
    assert cli.main(["export-schema"]) == 0
    assert cli.main(["export-schema", "--check"]) == 0


def test_every_root_field_declares_who_may_call_it():
    schema = build_schema()
    for root in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(root)
        for field in definition.fields:
            assert any(isinstance(e, Requires) for e in field.extensions), f"{root}.{field.name}"
    assert isinstance(schema._schema.query_type, GraphQLObjectType)


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_readiness_fails_when_the_database_is_gone(client):
    from gateway.db import close_db

    await close_db()
    ready = await client.get("/readyz")
    assert ready.status_code == 503


async def test_oversized_bodies_are_refused_before_parsing(client, settings):
    configure(replace(settings, anonymous_max_body_bytes=1000))
    response = await client.post(
        "/graphql", content=b"x" * 5000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_multipart_requests_need_the_preflight_header(client):
    files = {"operations": (None, '{"query": "{ __typename }"}'), "map": (None, "{}")}
    refused = await client.post("/graphql", files=files)
    assert refused.status_code == 400
    allowed = await client.post("/graphql", files=files, headers={"X-MCKS-Upload": "1"})
    assert allowed.status_code == 200 and allowed.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("lang", "label"), [("tr", "Firma Üst Kullanıcısı"), ("en", "Firm supervisor")]
)
async def test_enum_labels_in_both_languages(client, lang, label):
    body = await gql(
        client,
        '{ enumLabels(enum: "Role") { value label labelTr } }',
        headers={"Accept-Language": lang},
    )
    row = next(r for r in body["data"]["enumLabels"] if r["value"] == "FIRM_SUPERVISOR")
    assert row["label"] == label and row["labelTr"] == "Firma Üst Kullanıcısı"
    assert get_settings().env == "test"
