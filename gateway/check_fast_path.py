"""`checkImeis` without graphql-core's general executor: the operators' hot path.

Every network attach is one check, so a single-IMEI request should cost little more than its
one SQL query; through strawberry's executor, extension hooks and per-field completion cost
about four times the use case itself. Here a query text is planned once (bounded cache):
parsed and validated as the GraphQL view does (the same rules and limits), and accepted only
when it is one query operation whose single root field is `checkImeis`, selecting leaf fields
of `ImeiCheck`, with no fragments or directives. Such a request is answered by the same use
case, behind the field's own permission extension, with graphql-core's own argument
coercion, the schema's own serialisers and the schema's error policy: the answer is the one
strawberry gives (tests compare the two paths). Anything else, and any request this path
would refuse (bad variables, missing role), goes to strawberry unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    located_error,
    parse,
    specified_rules,
)
from graphql.execution.values import get_argument_values, get_variable_values
from starlette.types import Send
from strawberry import Schema
from strawberry.schema.schema import validate_document

from resolvers.actor import Actor
from resolvers.errors import ErrorCode
from resolvers.operators import checks
from resolvers.settings import get_settings
from schema.errors import ErrorPolicy
from schema.limits import limit_rules
from schema.observability import operation_label, record, root_fields
from schema.permissions import Requires

FIELD = "checkImeis"
# Operators send one short document over and over; longer texts are never cached (a client
# cannot fill the cache with large unique bodies), they simply take the general path.
MAX_PLANNED_QUERY = 2000
MAX_PLANS = 256


@dataclass(frozen=True, slots=True)
class Leaf:
    key: str  # the response key: alias or field name
    attribute: str  # on resolvers.operators.checks.ImeiCheck
    serialize: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    field: FieldNode
    key: str
    leaves: tuple[Leaf, ...]
    label: str  # the operation, for the access log and metrics (schema.observability)
    name: str | None  # the operation's own name, for the log


class CheckFastPath:
    def __init__(self, schema: Schema) -> None:
        self.core: GraphQLSchema = schema._schema
        query_type = self.core.query_type
        assert query_type is not None
        self.field_def: GraphQLField = query_type.fields[FIELD]
        root = schema.get_type_by_name("Query")
        strawberry_field = root.get_field("check_imeis")  # type: ignore[union-attr]
        assert strawberry_field is not None
        self.guard = next(e for e in strawberry_field.extensions if isinstance(e, Requires))
        item = schema.get_type_by_name("ImeiCheck")
        self.attributes = {
            schema.config.name_converter.get_graphql_name(f): f.python_name
            for f in item.fields  # type: ignore[union-attr]
        }
        item_type = get_named_type(self.field_def.type)
        self.serializers = {
            name: _serializer(get_named_type(f.type))
            for name, f in item_type.fields.items()  # type: ignore[union-attr]
        }
        self.plans: dict[tuple[Any, ...], Plan | None] = {}

    # --- planning -------------------------------------------------------------------------

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        if len(query) > MAX_PLANNED_QUERY:
            return None
        settings = get_settings()
        limits = (settings.max_query_depth, settings.max_aliases, settings.max_query_tokens)
        key = (query, operation_name, limits)
        try:
            return self.plans[key]
        except KeyError:
            pass
        plan = self._build(query, operation_name)
        if len(self.plans) >= MAX_PLANS:
            del self.plans[next(iter(self.plans))]
        self.plans[key] = plan
        return plan

    def _build(self, query: str, operation_name: str | None) -> Plan | None:
        found = single_root_field(self.core, query, operation_name, OperationType.QUERY)
        if found is None:
            return None
        operation, field = found
        if field.name.value != FIELD:
            return None
        leaves = []
        for selection in field.selection_set.selections if field.selection_set else ():
            if (
                not isinstance(selection, FieldNode)
                or selection.directives
                or selection.selection_set is not None
                or selection.name.value not in self.attributes
            ):
                return None
            name = selection.name.value
            leaves.append(
                Leaf(
                    key=selection.alias.value if selection.alias else name,
                    attribute=self.attributes[name],
                    serialize=self.serializers[name],
                )
            )
        key = field.alias.value if field.alias else FIELD
        name = operation.name.value if operation.name else None
        label = operation_label(name, (FIELD,), root_fields(self.core))
        return Plan(
            operation=operation, field=field, key=key, leaves=tuple(leaves), label=label, name=name
        )

    # --- answering ------------------------------------------------------------------------

    async def answer(self, scope: dict[str, Any], data: dict[str, Any], send: Send) -> bool:
        """Answer the request (parsed and shape-checked by gateway.request_body) and return
        True, or return False to leave it to strawberry."""
        query, variables = data.get("query"), data.get("variables")
        operation_name = data.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
        ):
            return False
        plan = self.plan(query, operation_name)
        if plan is None:
            return False
        state = scope.get("state") or {}
        actor: Actor | None = state.get("actor")
        if actor is None or self.guard.denial(actor) is not None:
            return False
        coerced = get_variable_values(
            self.core, plan.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return False
        try:
            arguments = get_argument_values(self.field_def, plan.field, coerced)
        except GraphQLError:
            return False
        record(state, plan.label, operation_name or plan.name)
        payload = await self._execute(plan, actor, state.get("lang", "tr"), arguments)
        # As the general path: 503 when the database could not answer.
        codes = {e.get("extensions", {}).get("code") for e in payload.get("errors", ())}
        status = 503 if ErrorCode.SERVICE_UNAVAILABLE.value in codes else 200
        await _send_json(send, json.dumps(payload, separators=(",", ":")).encode(), status)
        return True

    async def _execute(
        self, plan: Plan, actor: Actor, lang: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            answers = await checks.check_imeis(
                actor, arguments["imeis"], arguments.get("msisdn") or None
            )
        except Exception as error:
            # The root field is non-null: like graphql-core, the whole `data` becomes null.
            located = located_error(error, [plan.field], [plan.key])
            processed = ErrorPolicy.process(located, lang, actor.request_id)
            return {"data": None, "errors": [processed.formatted]}
        leaves = plan.leaves
        items = [
            {
                leaf.key: None
                if (value := getattr(answer, leaf.attribute)) is None
                else leaf.serialize(value)
                for leaf in leaves
            }
            for answer in answers
        ]
        return {"data": {plan.key: items}}


def single_root_field(
    core: GraphQLSchema, query: str, operation_name: str | None, kind: OperationType
) -> tuple[OperationDefinitionNode, FieldNode] | None:
    """The one operation of `kind` and its one root field, parsed and validated as the view
    does (the same rules and limits); None for anything else (fragments at the root,
    directives, several operations or fields, or a document strawberry would refuse)."""
    settings = get_settings()
    try:
        document = parse(query, max_tokens=settings.max_query_tokens)
    except GraphQLError:
        return None
    rules = (*specified_rules, *limit_rules(settings.max_query_depth, settings.max_aliases))
    if len(document.definitions) != 1 or validate_document(core, document, rules):
        return None
    operation = document.definitions[0]
    if (
        not isinstance(operation, OperationDefinitionNode)
        or operation.operation != kind
        or operation.directives
        or (operation_name is not None and getattr(operation.name, "value", None) != operation_name)
        or len(operation.selection_set.selections) != 1
    ):
        return None
    field = operation.selection_set.selections[0]
    if not isinstance(field, FieldNode) or field.directives:
        return None
    return operation, field


def _serializer(named: Any) -> Callable[[Any], Any]:
    serialize: Callable[[Any], Any] = named.serialize
    if isinstance(named, GraphQLEnumType):
        # strawberry's enum serialiser scans the members per value: remember each answer.
        names: dict[Enum, Any] = {}

        def enum_name(value: Enum) -> Any:
            try:
                return names[value]
            except KeyError:
                names[value] = serialize(value)
                return names[value]

        return enum_name
    return serialize


async def _send_json(send: Send, body: bytes, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
