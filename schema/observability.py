"""The GraphQL operation of a request, for the access log and the metrics (gateway).

The name a client gives its operation is free text: for metrics it is mapped onto a bounded
set, the names of the schema's root fields (`checkImeis`, `CheckImeis` → `checkImeis`); any
other name is `other`, and an unnamed operation counts under its root field when it has one.
The raw name (truncated) goes to the log, where cardinality does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

OTHER = "other"
MAX_LOGGED_NAME = 100

_known: dict[int, frozenset[str]] = {}


def root_fields(schema: GraphQLSchema) -> frozenset[str]:
    names = _known.get(id(schema))
    if names is None:
        names = frozenset(
            name
            for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
            if root is not None
            for name in root.fields
        )
        _known[id(schema)] = names
    return names


def operation_label(name: str | None, roots: Sequence[str], known: frozenset[str]) -> str:
    if name:
        field = name[:1].lower() + name[1:]
        return field if field in known else OTHER
    if len(roots) == 1 and roots[0] in known:
        return roots[0]
    return OTHER


def record(state: dict[str, object], label: str, name: str | None) -> None:
    state["operation"] = label
    if name:
        state["operation_name"] = name[:MAX_LOGGED_NAME]


class OperationLabel(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        request = getattr(context, "request", None)
        document = self.execution_context.graphql_document
        if request is None or document is None:
            return
        try:
            name = self.execution_context.operation_name
        except RuntimeError:  # several operations and none chosen
            name = None
        roots: list[str] = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                name is None or getattr(definition.name, "value", None) == name
            ):
                roots = [
                    s.name.value
                    for s in definition.selection_set.selections
                    if isinstance(s, FieldNode)
                ]
                break
        known = root_fields(self.execution_context.schema._schema)
        record(request.scope.setdefault("state", {}), operation_label(name, roots, known), name)
