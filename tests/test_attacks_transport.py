"""Attacks on the transport, as a stranger or a caller would make them: bodies that stall a
process, JSON that is not a GraphQL request, broken multipart parts, schema guessing, and
aliases that multiply the IMEI cap. Answers are refusals with a code, never a 500."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from models.roles import Role
from resolvers.settings import configure, updated
from tests.support.api import error_codes, gql, login, make_firm, make_user
from tests.support.individuals import serve_gateway
from tests.support.operators import OPERATOR_TOKEN, imei, make_operator


async def _raw_request(port: int, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request head and some body bytes on a socket; return what the server answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
            try:
                await writer.drain()
            except ConnectionError:
                break
        # Read the answer; the server may close once it has refused.
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = await asyncio.wait_for(reader.read(65536), timeout=60)
            if not chunk:
                break
            answer += chunk
        return answer
    finally:
        writer.close()


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return True


async def test_a_40_mb_anonymous_body_is_refused_unread_while_health_answers(app, settings):
    async with serve_gateway(app) as client:
        port = client.base_url.port
        declared = 40 * 1024 * 1024
        head = (
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {declared}\r\n\r\n".encode()
        )
        # Only 1 MB of the declared 40 MB is ever sent: the answer cannot wait for the rest.
        refusal, health = await asyncio.gather(
            _raw_request(port, head, [b"[" * (1024 * 1024)]), client.get("/healthz")
        )
        assert refusal.startswith(b"HTTP/1.1 413"), refusal[:200]
        body = json.loads(refusal.partition(b"\r\n\r\n")[2])
        assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert body["errors"][0]["extensions"]["requestId"]
        assert health.status_code == 200


async def test_a_chunked_anonymous_body_is_cut_off_at_the_anonymous_cap(app, settings):
    async with serve_gateway(app) as client:
        port = client.base_url.port
        head = (
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 16384
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        # 40 chunks of 16 KB = 640 KB offered; the cap (64 KB) is reached after four.
        answer = await _raw_request(port, head, [framed] * 40)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert (await client.get("/healthz")).status_code == 200


async def test_callers_get_a_bounded_json_body_and_strangers_a_small_one(make_client, db):
    configure(replace(updated(), anonymous_max_body_bytes=1024, max_json_body_bytes=200_000))
    client = make_client()
    await make_operator("Operatör", "OP1", OPERATOR_TOKEN)
    query = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei } }"
    imeis = [imei(1)] * 5000  # ~90 KB of JSON
    anonymous = await client.post("/graphql", json={"query": query, "variables": {"imeis": imeis}})
    assert anonymous.status_code == 413
    assert "1024" in anonymous.json()["errors"][0]["message"]
    body = await gql(client, query, {"imeis": imeis}, token=OPERATOR_TOKEN)
    assert len(body["data"]["checkImeis"]) == 5000
    too_big = await client.post(
        "/graphql",
        json={"query": query, "variables": {"imeis": [imei(1)] * 10_000, "pad": "x" * 200_000}},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert too_big.status_code == 413
    assert error_codes(too_big.json()) == ["PAYLOAD_TOO_LARGE"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"5", "int"),
        (b"null", "NoneType"),
        (b'"query"', "str"),
        (b"true", "bool"),
        (b"[]", "list"),
        (b"{nope", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b'{"query": 5}', "query"),
        (b'{"query": "{ __typename }", "variables": [1]}', "variables"),
        (b'{"variables": {}}', "query"),
        (
            b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
            "32",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"v": '
            + b"[" * 30_000
            + b"]" * 30_000
            + b"}}",
            "32",
        ),
    ],
)
async def test_bodies_that_are_not_a_graphql_request_get_400_with_a_code(client, body, says):
    response = await client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "Accept-Language": "en"},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert says in error["message"]


async def test_an_invalid_content_length_is_refused(app):
    async with serve_gateway(app) as client:
        head = (
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 12abc\r\n\r\n"
        )
        answer = await _raw_request(client.base_url.port, head, [b"{}"])
        assert answer.startswith(b"HTTP/1.1 400")


UPLOAD = (
    'mutation($f: Upload!) { uploadCeCertificate(brand: "APPLE", model: "A2403", file: $f) '
    "{ errors { code message } } }"
)


@pytest.mark.parametrize(
    ("parts", "says"),
    [
        ({"map": '{"0": ["variables.f"]}', "0": ("", b"\xff\xd8\xff")}, "'operations'"),
        ({"operations": "x", "map": "{}"}, "'operations'"),
        ({"operations": "[]", "map": "{}"}, "'operations'"),
        ({"operations": "OPS", "map": "[1]"}, "'map'"),
        ({"operations": "OPS", "map": '{"0": ["variables.f"]}', "0": ("", b"\xff\xd8\xff")}, "'0'"),
        ({"operations": "OPS", "map": '{"0": ["variables.f"]}', "0": "not a file"}, "'0'"),
        ({"operations": "OPS", "map": '{"0": ["variables.f"]}'}, "'0'"),
        (
            {"operations": "OPS", "map": '{"0": ["variables.x.y.z"]}', "0": ("a.jpg", b"\xff")},
            "path",
        ),
        ({"operations": "OPS", "map": '{"0": ["variables.f.3"]}', "0": ("a.jpg", b"\xff")}, "path"),
    ],
)
async def test_bad_multipart_parts_get_400_with_a_code(client, parts, says):
    await make_user("a.user", Role.FIRM_USER, await make_firm())
    token = await login(client, "a.user")
    operations = json.dumps({"query": UPLOAD, "variables": {"f": None}})
    files = {}
    for name, value in parts.items():
        if isinstance(value, tuple):
            files[name] = (value[0], value[1], "image/jpeg")
        else:
            files[name] = (None, value.replace("OPS", operations))
    response = await client.post(
        "/graphql",
        files=files,
        headers={"Authorization": f"Bearer {token}", "X-MCKS-Upload": "1", "Accept-Language": "en"},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert says in error["message"]


async def test_a_broken_multipart_body_gets_400_with_a_code(client):
    await make_user("a.user", Role.FIRM_USER, await make_firm())
    token = await login(client, "a.user")
    response = await client.post(
        "/graphql",
        content=b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{',
        headers={
            "Authorization": f"Bearer {token}",
            "X-MCKS-Upload": "1",
            "content-type": "multipart/form-data; boundary=b",
        },
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_an_unsupported_content_type_gets_400_with_a_code(client):
    response = await client.post(
        "/graphql", content=b"query=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_field_suggestions_do_not_read_the_schema_out_in_production(settings):
    from gateway.app import create_app

    typo = '{ imeiStatu(imei: "1") { registered } }'
    for env, suggests in (("production", False), ("development", True)):
        configure(replace(updated(), env=env))
        app = create_app(manage_db=False)
        import httpx

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            body = await gql(client, typo)
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        # The suggestion names the real field, in either language.
        assert ("'imeiStatus'" in body["errors"][0]["message"]) is suggests, body


@pytest.mark.parametrize(
    "body",
    [b"{nope", b"\xff\xfe", b'{"query": "query A { __typename }", "operationName": "B"}'],
)
async def test_refusals_in_turkish_carry_no_english(client, body):
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message.startswith("İstek okunamadı")
    for english in ("Expecting", "Unknown operation", "invalid", "line", "char"):
        assert english not in message, message
