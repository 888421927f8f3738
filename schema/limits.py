"""Query limits: depth, aliases and tokens, and introspection only for staff or in development."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, GraphQLError, get_named_type, is_introspection_type
from graphql.validation import ValidationRule
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from gateway.settings import get_settings


class NoIntrospectionForOutsiders(ValidationRule):
    """graphql-core's NoSchemaIntrospectionCustomRule, with our error code."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        named = get_named_type(self.context.get_type())
        if named is not None and is_introspection_type(named):
            self.report_error(
                GraphQLError(
                    f"Schema introspection is for staff only: '{node.name.value}'.",
                    node,
                    extensions={"code": "FORBIDDEN"},
                )
            )


class IntrospectionPolicy(SchemaExtension):
    """Outsiders in production get no schema introspection (OWASP); staff keep the explorer."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        actor = getattr(context, "actor", None)
        if not (get_settings().development or (actor is not None and actor.is_staff)):
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoIntrospectionForOutsiders,
            )
        yield


def limit_extensions() -> list[object]:
    # Factories, read per request: shared instances are unsafe under concurrency.
    return [
        lambda: QueryDepthLimiter(max_depth=get_settings().max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=get_settings().max_aliases),
        lambda: MaxTokensLimiter(max_token_count=get_settings().max_query_tokens),
        IntrospectionPolicy,
    ]
