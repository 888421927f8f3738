"""Out-of-range page arguments are the caller's error, never a server error: every paginated
root field (keyset lists and the operators' feeds alike), on both backends (an id beyond the
32-bit columns overflows PostgreSQL's INTEGER and SQLite's driver alike)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from graphql import GraphQLNonNull, Undefined

from models import clock
from models.after import ReplacementChannel, ReplacementReport, ReplacementReportStatus
from resolvers.errors import DomainError
from resolvers.pagination import MAX_KEY, decode_cursor, encode_cursor
from tests import authorization_table as table
from tests.support.api import gql
from tests.test_authorization_matrix import dummy, graphql_schema, make_callers

CREATE = """mutation($i: CreateApplicationInput!) {
  createApplication(input: $i) { application { id } errors { code message } }
}"""
# Who asks each field: the first caller of this order the authorization table admits.
ASKERS = (table.ADMIN, table.OPERATOR, table.EDEVLET, table.FIRM_SUPERVISOR)


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_CURSORS = [
    "99999999999999999999999",  # not one of ours at all
    raw("k:99999999999999999999999"),  # ours in form, beyond any id (bigint overflow too)
    raw(f"k:{MAX_KEY + 1}"),  # just past the INTEGER columns
    raw("k:-5"),
    raw("k:1.5"),
    raw("k:abc"),
    "a" * 10_000,
]


def paginated_fields() -> list[tuple[str, dict[str, Any]]]:
    """(field, its other required arguments as dummies) for every root field with `after`."""
    found = []
    for name, field in graphql_schema().query_type.fields.items():  # type: ignore[union-attr]
        if "after" not in field.args:
            continue
        required = {
            arg: dummy(value.type, arg)
            for arg, value in field.args.items()
            if isinstance(value.type, GraphQLNonNull) and value.default_value is Undefined
        }
        found.append((name, required))
    return found


def test_every_paginated_field_takes_first_and_after():
    fields = dict(paginated_fields())
    assert len(fields) >= 20  # the lists and the three feeds
    for name in ("whitelistChanges", "blacklistChanges", "pairingChanges", "applicationDevices"):
        assert name in fields
    for name in fields:
        assert "first" in graphql_schema().query_type.fields[name].args  # type: ignore[union-attr]


@pytest.mark.parametrize("cursor", BAD_CURSORS[1:5])
def test_decode_cursor_refuses_what_it_never_issued(cursor):
    with pytest.raises(DomainError) as refused:
        decode_cursor(cursor)
    assert refused.value.field == "after"
    assert decode_cursor(encode_cursor(MAX_KEY)) == MAX_KEY


async def test_bad_page_arguments_answer_invalid_input_naming_the_argument(client):
    principals, tokens = await make_callers()
    firm_user = tokens[table.FIRM_SUPERVISOR]
    created = await gql(
        client,
        CREATE,
        {"i": {"kind": "TEST", "data": {"importDate": "2026-11-02"}}},
        token=firm_user,
    )
    application_id = created["data"]["createApplication"]["application"]["id"]
    supervisor = principals[table.FIRM_SUPERVISOR].user
    assert supervisor is not None
    report = await ReplacementReport.create(
        firm_id=supervisor.firm_id,  # type: ignore[attr-defined]
        channel=ReplacementChannel.EK3_FILE,
        status=ReplacementReportStatus.PENDING_CONFIRMATION,
        created_by="test",
        created_at=clock.now(),
    )
    existing = {"applicationId": application_id, "reportId": report.id}

    for name, required in paginated_fields():
        asker = next(c for c in ASKERS if c in table.QUERIES[name])
        arguments = {k: existing.get(k, v) for k, v in required.items()}
        declared = graphql_schema().query_type.fields[name].args  # type: ignore[union-attr]
        decls = "".join(f", ${a}: {declared[a].type}" for a in arguments)
        passed = "".join(f", {a}: ${a}" for a in arguments)
        query = (
            f"query($after: String, $first: Int! = 10{decls}) "
            f"{{ {name}(after: $after, first: $first{passed}) {{ __typename }} }}"
        )

        def ask(
            after: str | None,
            first: Any = 10,
            *,
            _q: str = query,
            _a: dict[str, Any] = arguments,
            _t: str | None = tokens[asker],
        ) -> Any:
            return gql(client, _q, {"after": after, "first": first, **_a}, token=_t)

        # The largest key a cursor can carry is still an ordinary (empty or full) page.
        fine = await ask(encode_cursor(MAX_KEY))
        assert "errors" not in fine, (name, fine)
        for cursor in BAD_CURSORS:
            body = await ask(cursor)
            errors = body.get("errors", [])
            assert [e["extensions"]["code"] for e in errors] == ["INVALID_INPUT"], (name, body)
            assert errors[0]["extensions"]["field"] == "after", (name, body)
            assert "(after)" in errors[0]["message"]
        for first in (0, -1):
            body = await ask(None, first)
            errors = body.get("errors", [])
            assert [e["extensions"]["code"] for e in errors] == ["INVALID_INPUT"], (name, body)
            assert errors[0]["extensions"]["field"] == "first", (name, body)
        # Beyond 32 bits, or not a whole number: GraphQL itself refuses the variable.
        for first in (99999999999999999999999, 2**31, 1.5, "10"):
            body = await ask(None, first)
            errors = body.get("errors", [])
            assert [e["extensions"]["code"] for e in errors] == ["GRAPHQL_VALIDATION_FAILED"], (
                name,
                body,
            )
            assert "$first" in errors[0]["message"]
