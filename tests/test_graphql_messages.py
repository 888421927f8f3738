"""graphql-core's refusals reach a Turkish caller in Turkish, an English one in English."""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLError

from schema.graphql_messages import in_turkish, translate
from tests.support.api import gql, login, make_world

# English words graphql-core's messages are made of; none may be left in a Turkish one once
# the quoted schema names are taken out.
ENGLISH = re.compile(
    r"\b(Cannot|query|Expected|Variable|provided|value|type|field|Syntax|Unknown|must|found"
    r"|represent|never|used|defined|Did|mean|exceeds|aliases|Allowed|argument|required)\b"
)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

# (query, variables, a piece of the English message): one per shape clients meet.
BAD_REQUESTS = [
    ("{ nope }", None, "Cannot query field 'nope' on type 'Query'"),
    ("{ firms { items { id nme } } }", None, "Cannot query field 'nme'"),
    ('{ firms(first: "x") { items { id } } }', None, "Int cannot represent"),
    ("query($a: Int!) { firm(id: $a) { id } }", {"a": "x"}, "Variable '$a' has invalid value"),
    ("query($a: Int!) { firm(id: $a) { id } }", {}, "non-null type 'Int!'"),
    ("{ firms { items { id } ", None, "Syntax Error"),
    ("query($i: Int) { __typename }", None, "Variable '$i' is never used"),
    ("{ firm(id: $x) { id } }", None, "Variable '$x' is not defined"),
    ("{ firm { id } }", None, "of type 'Int!' is required"),
    ("{ firm(id: 1, nope: 2) { id } }", None, "Unknown argument 'nope'"),
    ("{ firms }", None, "must have a selection of subfields"),
    ("{ firms { items { id { x } } } }", None, "must not have a selection"),
    ("query($a: Nope) { __typename }", None, "Unknown type 'Nope'"),
    (
        "mutation($i: CreateFirmInput!) { createFirm(input: $i) { firm { id } } }",
        {"i": {"name": "x", "taxNumber": "1", "kind": "NOPE", "contactEmail": "a@b.c", "b": 1}},
        "not to include unknown field 'b'",
    ),
    ("{ a: firms { items { id } } a: firm(id: 1) { id } }", None, "conflict because"),
    ("{ __typename } { __typename }", None, "anonymous operation must be the only"),
    ("{ firms { ...F } }", None, "Unknown fragment 'F'"),
]


def left_in_english(message: str) -> list[str]:
    return ENGLISH.findall(QUOTED.sub("", message))


@pytest.mark.parametrize(("query", "variables", "english"), BAD_REQUESTS)
async def test_a_refused_request_is_told_in_the_callers_language(client, query, variables, english):
    await make_world()
    token = await login(client, "staff.admin")
    turkish = await gql(client, query, variables, token=token, expect_status=None)
    assert turkish["errors"], turkish
    for error in turkish["errors"]:
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert left_in_english(error["message"]) == [], error
    in_english = await gql(
        client, query, variables, token=token, headers={"Accept-Language": "en"}, expect_status=None
    )
    messages = " ".join(error["message"] for error in in_english["errors"])
    assert english in messages


def test_each_known_shape_reads_as_a_turkish_sentence():
    cases = {
        "Cannot query field 'nme' on type 'Firm'. Did you mean 'name'?": (
            "'Firm' türünde 'nme' adlı bir alan yok. Bunu mu demek istediniz: 'name'?"
        ),
        "Variable '$i' has invalid value at 'i.kind': Value 'NOPE' does not exist in"
        " 'FirmKind' enum.": (
            "'$i' değişkeninin değeri geçersiz ('i.kind' konumunda): 'NOPE' değeri 'FirmKind'"
            " listesinde yok."
        ),
        "'Q' exceeds maximum operation depth of 10": (
            "'Q' işlemi izin verilen en fazla 10 iç içe alan derinliğini aşıyor."
        ),
        "20 aliases found. Allowed: 15": "Sorguda 20 takma ad (alias) var; en fazla 15 olabilir.",
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.": (
            "Sorgu en fazla 2000 sözcük birimi (token) içerebilir; okunmadı."
        ),
    }
    for english, turkish in cases.items():
        assert translate(english) == turkish


def test_an_unknown_shape_gets_a_turkish_sentence_and_keeps_its_english_as_detail():
    error = in_turkish(GraphQLError("Some future graphql-core rule was broken."))
    assert error.message == "İstek GraphQL kurallarına uymuyor."
    assert error.extensions == {"detail": "Some future graphql-core rule was broken."}
