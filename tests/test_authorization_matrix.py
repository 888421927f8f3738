"""The authorization matrix as a test: every root Query and Mutation field × every kind of
caller, each a real GraphQL request with dummy arguments built from the field's types.

The expectation is `tests/authorization_table.py`, written from the domain. A caller the
table does not name must be refused with UNAUTHENTICATED, FORBIDDEN or
PASSWORD_CHANGE_REQUIRED; a caller it names must get past the gate (NOT_FOUND, a validation
error for the dummy values, or a result are all fine), and nobody may get INTERNAL_ERROR.
Dummy ids point at nothing, so no call changes the accounts the later calls use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)

from models import clock
from models.accounts import AccessToken, Firm, MachineClient, User
from models.roles import ClientKind, FirmKind, Role
from resolvers.accounts.credentials import hash_token, new_token
from schema import build_schema
from tests import authorization_table as table
from tests.support.api import make_firm, make_user

REFUSED = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "PASSWORD_CHANGE_REQUIRED"})
# These end the session that calls them: each call gets a token of its own.
ENDS_SESSION = frozenset({"Mutation.logout", "Mutation.changePassword"})
MISSING_ID = 999_999  # no row has it: admitted callers get NOT_FOUND, nothing is changed

# Arguments a caller needs beyond the dummies for the field to be theirs at all: staff
# enter paper applications (the channel decides who may create one).
VARIANTS: dict[tuple[str, str], dict[str, Any]] = {
    ("Mutation.createApplication", caller): {"input": {"channel": "PAPER", "firmId": MISSING_ID}}
    for caller in table.STAFF
}

# Known disagreements between the table and the code, each (field, caller) with why it is
# believed wrong. Kept out of the table so that the table stays what the domain says; the
# test fails when one of them is fixed (then delete the entry) as well as on a new one.
DISPUTED: dict[tuple[str, str], str] = {}


def graphql_schema() -> GraphQLSchema:
    return build_schema()._schema


def root_fields(schema: GraphQLSchema) -> Iterator[tuple[str, str, GraphQLField]]:
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            yield operation, f"{root.name}.{name}", field


def expected_table() -> dict[str, frozenset[str]]:
    return {
        **{f"Query.{name}": callers for name, callers in table.QUERIES.items()},
        **{f"Mutation.{name}": callers for name, callers in table.MUTATIONS.items()},
    }


# --- dummy arguments ---------------------------------------------------------------------


def _scalar(scalar: GraphQLScalarType, name: str) -> Any:
    if scalar.name == "Int":
        lowered = name.lower()
        if lowered == "id" or lowered.endswith("id"):
            return MISSING_ID
        if "year" in lowered:
            return 2026
        return 1
    return {
        "String": "x",
        "Boolean": False,
        "DateTime": "2026-01-01T00:00:00+00:00",
        "Date": "2026-01-01",
        "Decimal": "1.00",
        "JSON": {},
    }[scalar.name]


def dummy(type_: GraphQLInputType, name: str) -> Any:
    """A value that coerces to `type_`; input objects get their required fields only."""
    if isinstance(type_, GraphQLNonNull):
        return dummy(type_.of_type, name)
    if isinstance(type_, GraphQLList):
        return [dummy(type_.of_type, name)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            field_name: dummy(field.type, field_name)
            for field_name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(type_, GraphQLScalarType), type_
    return _scalar(type_, name)


def _is_upload(type_: GraphQLInputType) -> bool:
    return get_named_type(type_).name == "Upload"


@dataclass(frozen=True)
class Call:
    query: str
    variables: dict[str, Any]
    uploads: tuple[str, ...]  # variables sent as multipart files


def call_of(operation: str, name: str, field: GraphQLField) -> Call:
    required = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    }
    declarations = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    arguments = ", ".join(f"{a}: ${a}" for a in required)
    returned = get_named_type(field.type)
    selection = ""
    if isinstance(returned, GraphQLObjectType):
        # Payloads carry the refusals of mutations in `errors`.
        selection = (
            "{ __typename errors { code } }" if "errors" in returned.fields else "{ __typename }"
        )
    head = f"{operation} Matrix({declarations})" if declarations else f"{operation} Matrix"
    field_name = name.split(".", 1)[1]
    call_args = f"({arguments})" if arguments else ""
    uploads = tuple(a for a, arg in required.items() if _is_upload(arg.type))
    variables = {a: (None if a in uploads else dummy(arg.type, a)) for a, arg in required.items()}
    return Call(f"{head} {{ {field_name}{call_args} {selection} }}", variables, uploads)


# --- callers -----------------------------------------------------------------------------


@dataclass
class Principal:
    user: User | None = None
    client: MachineClient | None = None


async def mint(principal: Principal, revoked: bool = False) -> str:
    token = new_token()
    now = clock.now()
    await AccessToken.create(
        token_hash=hash_token(token),
        user_id=principal.user.id if principal.user else None,
        client_id=principal.client.id if principal.client else None,
        label="matrix",
        created_at=now,
        expires_at=now + timedelta(days=1),
        revoked_at=now if revoked else None,
    )
    return token


async def make_callers() -> tuple[dict[str, Principal], dict[str, str | None]]:
    importer = await make_firm("Anadolu Mobil A.Ş.", "1111111111")
    maker = await Firm.create(
        name="Kıbrıs Cihaz Üretim Ltd.",
        tax_number="3333333333",
        kind=FirmKind.MANUFACTURER,
        contact_email="uretici@example.com",
        allowed_ips=[],
        created_at=clock.now(),
    )
    now = clock.now()
    principals = {
        table.FIRM_USER: Principal(await make_user("m.user", Role.FIRM_USER, importer)),
        table.FIRM_SUPERVISOR: Principal(
            await make_user("m.super", Role.FIRM_SUPERVISOR, importer)
        ),
        table.MANUFACTURER_USER: Principal(await make_user("m.maker", Role.FIRM_USER, maker)),
        table.REVIEWER: Principal(await make_user("m.reviewer", Role.STAFF_REVIEWER)),
        table.ARCHIVE: Principal(await make_user("m.archive", Role.STAFF_ARCHIVE)),
        table.ADMIN: Principal(await make_user("m.admin", Role.STAFF_ADMIN)),
        table.OPERATOR: Principal(
            client=await MachineClient.create(
                name="Matrix GSM", kind=ClientKind.OPERATOR, operator_code="MTX", created_at=now
            )
        ),
        table.EDEVLET: Principal(
            client=await MachineClient.create(
                name="Matrix e-Devlet", kind=ClientKind.E_DEVLET, created_at=now
            )
        ),
        table.MUST_CHANGE: Principal(
            await make_user("m.newcomer", Role.FIRM_USER, importer, must_change_password=True)
        ),
        table.REVOKED: Principal(await make_user("m.revoked", Role.STAFF_ADMIN)),
        table.DISABLED: Principal(await make_user("m.disabled", Role.FIRM_USER, importer)),
    }
    tokens: dict[str, str | None] = {table.ANONYMOUS: None}
    for caller, principal in principals.items():
        tokens[caller] = await mint(principal, revoked=caller == table.REVOKED)
    disabled = principals[table.DISABLED].user
    assert disabled is not None
    disabled.is_active = False
    await disabled.save(update_fields=["is_active"])
    return principals, tokens


# --- requests ----------------------------------------------------------------------------


def codes_in(value: Any) -> list[str]:
    """Every error code in a response: top-level errors and payloads' `errors` lists."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "errors" and isinstance(item, list):
                for error in item:
                    if isinstance(error, dict):
                        code = error.get("code") or (error.get("extensions") or {}).get("code")
                        if code:
                            found.append(code)
            else:
                found.extend(codes_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(codes_in(item))
    return found


async def send(client: httpx.AsyncClient, call: Call, token: str | None) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if call.uploads:
        mapping = {str(i): [f"variables.{name}"] for i, name in enumerate(call.uploads)}
        form: dict[str, Any] = {
            "operations": (None, json.dumps({"query": call.query, "variables": call.variables})),
            "map": (None, json.dumps(mapping)),
        }
        for i in range(len(call.uploads)):
            form[str(i)] = ("x.pdf", b"%PDF-1.4 x", "application/pdf")
        response = await client.post(
            "/graphql", files=form, headers={**headers, "X-MCKS-Upload": "1"}
        )
    else:
        response = await client.post(
            "/graphql", json={"query": call.query, "variables": call.variables}, headers=headers
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    codes = codes_in(body)
    if response.status_code in (401, 403) and not codes:
        codes = ["UNAUTHENTICATED" if response.status_code == 401 else "FORBIDDEN"]
    elif response.status_code >= 500:
        codes.append("INTERNAL_ERROR")
    return codes


# --- tests -------------------------------------------------------------------------------


def test_the_table_has_an_entry_for_every_root_field_and_no_other():
    fields = {name for _, name, _ in root_fields(graphql_schema())}
    entries = set(expected_table())
    assert sorted(fields - entries) == [], "root fields without an entry in the table"
    assert sorted(entries - fields) == [], "table entries for fields that no longer exist"
    for name, callers in expected_table().items():
        assert callers <= set(table.CALLERS), (name, callers - set(table.CALLERS))
    for field, caller in DISPUTED:
        assert field in entries and caller in table.CALLERS, (field, caller)


def test_dummy_arguments_cover_every_field():
    """Every required argument gets a value, so no request is refused before the gate."""
    for operation, name, field in root_fields(graphql_schema()):
        call = call_of(operation, name, field)
        required = [a for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)]
        for arg in required:
            if field.args[arg].default_value is Undefined:
                assert arg in call.variables, (name, arg)


async def test_every_root_field_admits_exactly_the_callers_of_the_table(client):
    principals, tokens = await make_callers()
    expected = expected_table()
    mismatches: dict[tuple[str, str], str] = {}
    server_errors: list[tuple[str, str]] = []
    sent = 0
    for operation, name, field in root_fields(graphql_schema()):
        call = call_of(operation, name, field)
        for caller in table.CALLERS:
            token = tokens[caller]
            if name in ENDS_SESSION and caller in principals and caller != table.REVOKED:
                token = await mint(principals[caller])
            variant = VARIANTS.get((name, caller))
            if variant:
                merged = {k: {**call.variables[k], **v} for k, v in variant.items()}
                codes = await send(
                    client, replace(call, variables={**call.variables, **merged}), token
                )
            else:
                codes = await send(client, call, token)
            sent += 1
            if "INTERNAL_ERROR" in codes:
                server_errors.append((name, caller))
            refused = bool(REFUSED & set(codes))
            admitted = caller in expected[name]
            if admitted and refused:
                mismatches[(name, caller)] = f"refused with {codes}, the table admits"
            elif not admitted and not refused:
                mismatches[(name, caller)] = f"not refused (answered {codes or 'data'})"
    assert sent == len(expected) * len(table.CALLERS)
    assert server_errors == []
    unexpected = {k: v for k, v in mismatches.items() if k not in DISPUTED}
    assert unexpected == {}, "\n".join(f"{f} × {c}: {why}" for (f, c), why in unexpected.items())
    fixed = sorted(set(DISPUTED) - set(mismatches))
    assert fixed == [], "disputed entries the code now agrees with: delete them"
