"""The operators' fast path for `checkImeis` answers exactly as the general GraphQL executor.

Every check here is sent twice: as operators send it (planned and answered by
`gateway.check_fast_path`) and written with a fragment, which the fast path leaves to
strawberry. Both answers must be the same; requests the fast path declines must still get
strawberry's answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.check_fast_path import MAX_PLANNED_QUERY, MAX_PLANS, CheckFastPath
from gateway.demo import load_demo
from models import clock
from models.network import CloneSuspicion, ImeiPairing
from models.registry import WhitelistStatus
from resolvers.operators import lookup
from resolvers.operators.checks import MAX_IMEIS_PER_CHECK
from schema import GatewaySchema, build_schema
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import (
    CHECK,
    OPERATOR_TOKEN,
    blacklist,
    imei,
    register_tac,
    unlist,
    whitelist,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

THROUGH_STRAWBERRY = """
query($imeis: [String!]!, $msisdn: String) {
  checkImeis(imeis: $imeis, msisdn: $msisdn) { ...answer }
}
fragment answer on ImeiCheck { imei verdict status reason brand model graceEndsAt }"""


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()
    await register_tac()


@pytest.fixture
def executions(monkeypatch):
    """How many requests strawberry's executor ran."""
    count = [0]
    original = GatewaySchema.execute

    async def counted(self, *args, **kwargs):
        count[0] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(GatewaySchema, "execute", counted)
    return count


async def both(client, variables, executions, token=OPERATOR_TOKEN, fast=CHECK):
    """The fast path's body and strawberry's body for the same check."""
    before = executions[0]
    quick = await gql(client, fast, variables, token=token)
    assert executions[0] == before, "the fast path did not answer"
    general = await gql(client, THROUGH_STRAWBERRY, variables, token=token)
    assert executions[0] == before + 1, "strawberry did not answer"
    return quick, general


async def test_every_status_and_verdict_is_answered_the_same_on_both_paths(client, executions):
    await whitelist(imei(1), brand="SAMSUNG", model="SM-G9359")
    await whitelist(imei(2), status=WhitelistStatus.PROVISIONAL)
    await whitelist(imei(3))
    await unlist(imei(3), reason="Nüfus kaydı doğrulanamadı")
    await blacklist(imei(4))
    await whitelist(imei(5), imei(6))
    await CloneSuspicion.create(imei=imei(5), imsi_count=2, detected_at=clock.now())
    await ImeiPairing.create(imei=imei(6), msisdn="905331112233", paired_at=clock.now())
    inputs = [imei(n) for n in range(1, 8)] + ["abc", imei(1)[:14], imei(1)[:14] + "07", imei(1)]
    inputs += [imei(8, tac="35999999"), "000000000000000"]  # no grace: unknown TAC, reserved
    # imei(7) attaches for the first time through the fast path (with the msisdn): its grace
    # began then, and the general path must report the same end.
    for msisdn in (None, "+90 533 111 22 33", "905559998877"):
        quick, general = await both(client, {"imeis": inputs, "msisdn": msisdn}, executions)
        assert quick == general
    answers = quick["data"]["checkImeis"]
    assert [a["status"] for a in answers] == [
        "REGISTERED",
        "PROVISIONAL",
        "NOT_REGISTERED",
        "BLACKLISTED",
        "CLONE_SUSPECTED",
        "PAIRED",
        "GRACE_PERIOD",
        "INVALID",
        "REGISTERED",
        "REGISTERED",
        "REGISTERED",
        "NOT_REGISTERED",
        "NOT_REGISTERED",
    ]
    assert [a["reason"] for a in answers[-2:]] == ["TAC_NOT_FOUND", "RESERVED_IMEI"]
    assert answers[2]["reason"] == "Nüfus kaydı doğrulanamadı"
    assert answers[5]["reason"] == "MSISDN_MISMATCH"
    assert answers[6]["graceEndsAt"] == "2026-06-29T09:00:00+00:00"


async def test_aliases_literals_and_a_field_subset_are_answered_on_the_fast_path(
    client, executions
):
    await whitelist(imei(1), brand="SAMSUNG", model="SM-G9359")
    imeis = f'["{imei(1)}", "x"]'
    fast = f"{{ answers: checkImeis(imeis: {imeis}) {{ id: imei status model }} }}"
    general = (
        f"{{ answers: checkImeis(imeis: {imeis}) {{ ...f }} }} "
        "fragment f on ImeiCheck { id: imei status model }"
    )
    before = executions[0]
    quick = await gql(client, fast, token=OPERATOR_TOKEN)
    assert executions[0] == before
    assert quick == await gql(client, general, token=OPERATOR_TOKEN)
    assert quick["data"]["answers"] == [
        {"id": imei(1), "status": "REGISTERED", "model": "SM-G9359"},
        {"id": "x", "status": "INVALID", "model": None},
    ]


async def test_an_oversized_batch_is_refused_before_either_path_runs(client, executions):
    before = executions[0]
    response = await client.post(
        "/graphql",
        json={"query": CHECK, "variables": {"imeis": [imei(1)] * (MAX_IMEIS_PER_CHECK + 1)}},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "variables.imeis" in error["message"] and "10000" in error["message"]
    assert executions[0] == before


async def test_aliases_share_one_imei_cap_per_request(client, executions):
    half = [imei(1)] * (MAX_IMEIS_PER_CHECK // 2 + 1)
    body = await gql(
        client,
        "query($a: [String!]!, $b: [String!]!) { a: checkImeis(imeis: $a) { imei } "
        "b: checkImeis(imeis: $b) { imei } }",
        {"a": half, "b": half},
        token=OPERATOR_TOKEN,
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["b"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "imeis"}
    assert str(MAX_IMEIS_PER_CHECK + 2) in error["message"]


async def test_an_unexpected_failure_is_masked_on_both_paths(client, executions, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire: secret detail")

    monkeypatch.setattr(lookup, "lookup", broken)
    quick, general = await both(client, {"imeis": [imei(1)]}, executions)
    for body in (quick, general):
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INTERNAL_ERROR"
        assert error["extensions"]["requestId"]
        assert "secret" not in str(body)


async def test_requests_the_fast_path_declines_get_strawberrys_answer(client, executions):
    await make_world()
    firm_token = await login(client, "a.user")
    cases = [
        # (query, variables, token, expected error codes)
        (CHECK, {"imeis": [imei(1)]}, None, ["UNAUTHENTICATED"]),
        (CHECK, {"imeis": [imei(1)]}, firm_token, ["FORBIDDEN"]),
        (CHECK, {"imeis": 5}, OPERATOR_TOKEN, ["GRAPHQL_VALIDATION_FAILED"]),
        (CHECK, {}, OPERATOR_TOKEN, ["GRAPHQL_VALIDATION_FAILED"]),
        ("{ checkImeis(imeis: []) { nope } }", None, OPERATOR_TOKEN, ["GRAPHQL_VALIDATION_FAILED"]),
        (
            "{ checkImeis(imeis: [1]) { imei } }",
            None,
            OPERATOR_TOKEN,
            ["GRAPHQL_VALIDATION_FAILED"],
        ),
        ("{ checkImeis(imeis: [", None, OPERATOR_TOKEN, ["GRAPHQL_VALIDATION_FAILED"]),
    ]
    for query, variables, token, codes in cases:
        before = executions[0]
        body = await gql(client, query, variables, token=token)
        assert error_codes(body) == codes, (query, body)
        assert executions[0] <= before + 1

    # Shapes it does not plan are still answered, by strawberry.
    mixed = f'{{ checkImeis(imeis: ["{imei(1)}"]) {{ __typename imei status }} }}'
    before = executions[0]
    body = await gql(client, mixed, token=OPERATOR_TOKEN)
    assert executions[0] == before + 1
    assert body["data"]["checkImeis"] == [
        {"__typename": "ImeiCheck", "imei": imei(1), "status": "GRACE_PERIOD"}
    ]
    named = "query Check($imeis: [String!]!) { checkImeis(imeis: $imeis) { status } }"
    response = await client.post(
        "/graphql",
        json={"query": named, "variables": {"imeis": ["x"]}, "operationName": "Other"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert '"Other"' in error["message"]


async def test_other_json_requests_still_reach_strawberry_with_their_body(client, executions):
    await make_world()
    token = await login(client, "staff.reviewer")
    before = executions[0]
    body = await gql(client, "{ viewer { kind role } }", token=token)
    assert body["data"]["viewer"] == {"kind": "USER", "role": "STAFF_REVIEWER"}
    assert executions[0] == before + 1


def test_the_plan_cache_is_bounded_and_ignores_long_documents():
    fast_path = CheckFastPath(build_schema())
    for n in range(MAX_PLANS + 40):
        assert fast_path.plan(f"{{ a{n}: checkImeis(imeis: []) {{ imei }} }}", None) is not None
    assert len(fast_path.plans) == MAX_PLANS
    long = "{ checkImeis(imeis: []) { imei } }" + " " * MAX_PLANNED_QUERY
    assert fast_path.plan(long, None) is None
    assert all(key[0] != long for key in fast_path.plans)
