"""Query limits: depth, aliases and tokens, one password check per document, and
introspection only for staff or in development."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from graphql import FieldNode, GraphQLError, get_named_type, is_introspection_type
from graphql.validation import ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from resolvers.errors import ErrorCode, render_message
from resolvers.settings import get_settings

# Root mutations that check a password: one of each per document, or aliases would multiply
# the guesses one request makes (and the throttle counts requests' checks one by one).
PASSWORD_FIELDS = frozenset({"login", "changePassword"})


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


class OnePasswordCheckPerDocument(ValidationRule):
    """At most one `login` and one `changePassword` in a document: aliases, repeated
    fields, fragments and several operations all count."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.seen: dict[str, int] = {}

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        name = node.name.value
        if name not in PASSWORD_FIELDS:
            return
        parent = self.context.get_parent_type()
        if parent is None or parent is not self.context.schema.mutation_type:
            return
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.seen[name] == 2:
            code = ErrorCode.ONE_LOGIN_PER_REQUEST
            self.report_error(
                GraphQLError(render_message(code, "en", {}), node, extensions={"code": code.value})
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


def _tolerating_unknown_fragments(rule: type[ValidationRule]) -> type[ValidationRule]:
    """strawberry's depth limiter measures in its constructor and fails with a KeyError on a
    spread of a fragment the document does not define (an internal error for the caller).
    graphql-core's KnownFragmentNamesRule reports that spread already, so the depth of such
    a document is left unmeasured instead."""

    class Tolerant(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except KeyError:
                ValidationRule.__init__(self, context)

    Tolerant.__name__ = rule.__name__
    return Tolerant


@cache
def limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    # QueryDepthLimiter / MaxAliasesLimiter build a new rule class per instance, which would
    # make every request's rule set unique and the validation cache useless: build them once
    # per limit value instead.
    return (
        _tolerating_unknown_fragments(depth_rule(max_depth, None, None)),
        aliases_rule(max_aliases),
        OnePasswordCheckPerDocument,
    )


def _query_limits() -> AddValidationRules:
    settings = get_settings()
    return AddValidationRules(list(limit_rules(settings.max_query_depth, settings.max_aliases)))


def limit_extensions() -> list[object]:
    # Factories, read per request: shared instances are unsafe under concurrency.
    return [
        _query_limits,
        lambda: MaxTokensLimiter(max_token_count=get_settings().max_query_tokens),
        IntrospectionPolicy,
        # Parsing and validating a document costs more than a small query's execution (the
        # operators' single-IMEI checks): both are cached per query text (bounded LRU). The
        # validation cache is keyed by the document AND the rule set, so an outsider's
        # introspection rule never shares an entry with staff.
        ParserCache,
        ValidationCache,
    ]
