"""The operators' feed subscriptions without graphql-core's per-event executor.

A burst on the whitelist goes to every subscribed EIR: 10,000 changes to 1,000 subscribers
are ten million items. Through the general executor each subscriber's copy of each page is
completed field by field (~40–90k items/s per core); here a document is planned once
(bounded cache), as `gateway.check_fast_path` does for `checkImeis`: parsed and validated
with the view's rules and limits, and accepted only when it is one subscription whose single
root field is a feed (`whitelistChanges`, `blacklistChanges`, `pairingChanges`,
`greylistChanges`) selecting
leaf fields of `items` and `pageInfo`, without fragments or directives. Each page a
subscriber receives is then serialised once per plan — subscribers at one cursor share the
page (resolvers.push) and so the text — and only the message's id differs per socket.

The same use cases (resolvers.push) run behind the field's own permission extension, with
graphql-core's argument coercion and the schema's serialisers; anything else, and anything
this path would refuse (a missing role, a bad cursor or page size), goes to strawberry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry import Schema

from gateway.check_fast_path import Leaf, _serializer, single_root_field
from resolvers import push
from resolvers.actor import Actor
from resolvers.errors import DomainError
from resolvers.operators import feed
from resolvers.pagination import Page
from resolvers.settings import get_settings
from schema.permissions import Requires

Follow = Callable[[Actor, str | None, int, Callable[[], Awaitable[None]]], AsyncIterator[Page[Any]]]
# GraphQL field → (the use case, the strawberry field's python name).
FEEDS: dict[str, tuple[Follow, str]] = {
    "whitelistChanges": (push.whitelist, "whitelist_changes"),
    "blacklistChanges": (push.blacklist, "blacklist_changes"),
    "pairingChanges": (push.pairings, "pairing_changes"),
    "greylistChanges": (push.greylist_changes, "greylist_changes"),
}
MAX_PLANNED_QUERY = 2000
MAX_PLANS = 256
MAX_TEXTS = 256


@dataclass(frozen=True, slots=True)
class FeedPlan:
    operation: OperationDefinitionNode
    field: FieldNode
    field_def: GraphQLField
    guard: Requires
    follow: Follow
    key: str
    # In selection order: ("items", key, leaves) or ("pageInfo", key, leaves).
    parts: tuple[tuple[str, str, tuple[Leaf, ...]], ...]


class FeedFastPath:
    def __init__(self, schema: Schema) -> None:
        self.core: GraphQLSchema = schema._schema
        subscription = self.core.subscription_type
        assert subscription is not None
        root = schema.get_type_by_name("Subscription")
        self.fields: dict[str, tuple[GraphQLField, Requires, Follow, dict[str, Any]]] = {}
        for name, (follow, python_name) in FEEDS.items():
            field_def = subscription.fields[name]
            strawberry_field = root.get_field(python_name)  # type: ignore[union-attr]
            assert strawberry_field is not None
            guard = next(e for e in strawberry_field.extensions if isinstance(e, Requires))
            page_type = get_named_type(field_def.type)
            self.fields[name] = (field_def, guard, follow, page_type.fields)  # type: ignore[union-attr]
        names = schema.config.name_converter
        self.attributes: dict[str, dict[str, str]] = {}
        for type_name in (
            "WhitelistChange",
            "BlacklistChange",
            "PairingChange",
            "GreylistChange",
            "PageInfo",
        ):
            definition = schema.get_type_by_name(type_name)
            self.attributes[type_name] = {
                names.get_graphql_name(f): f.python_name
                for f in definition.fields  # type: ignore[union-attr]
            }
        self.plans: dict[tuple[Any, ...], FeedPlan | None] = {}
        self.texts: dict[tuple[int, int], tuple[Page[Any], str]] = {}

    # --- planning -------------------------------------------------------------------------

    def plan(self, query: str, operation_name: object) -> FeedPlan | None:
        if len(query) > MAX_PLANNED_QUERY or not isinstance(operation_name, str | None):
            return None
        settings = get_settings()
        limits = (settings.max_query_depth, settings.max_aliases, settings.max_query_tokens)
        key = (query, operation_name, limits)
        if key not in self.plans:
            if len(self.plans) >= MAX_PLANS:
                del self.plans[next(iter(self.plans))]
            self.plans[key] = self._build(query, operation_name)
        return self.plans[key]

    def _build(self, query: str, operation_name: str | None) -> FeedPlan | None:
        found = single_root_field(self.core, query, operation_name, OperationType.SUBSCRIPTION)
        if found is None:
            return None
        operation, field = found
        if field.selection_set is None:
            return None
        name = field.name.value
        if name not in self.fields:
            return None
        field_def, guard, follow, page_fields = self.fields[name]
        parts = []
        for selection in field.selection_set.selections:
            if (
                not isinstance(selection, FieldNode)
                or selection.directives
                or selection.selection_set is None
                or selection.name.value not in ("items", "pageInfo")
            ):
                return None
            part = selection.name.value
            type_name = get_named_type(page_fields[part].type).name
            item_fields = get_named_type(page_fields[part].type).fields  # type: ignore[union-attr]
            leaves = []
            for leaf in selection.selection_set.selections:
                if (
                    not isinstance(leaf, FieldNode)
                    or leaf.directives
                    or leaf.selection_set is not None
                    or leaf.name.value not in self.attributes[type_name]
                ):
                    return None
                leaf_name = leaf.name.value
                leaves.append(
                    Leaf(
                        key=leaf.alias.value if leaf.alias else leaf_name,
                        attribute=self.attributes[type_name][leaf_name],
                        serialize=_serializer(get_named_type(item_fields[leaf_name].type)),
                    )
                )
            key = selection.alias.value if selection.alias else part
            parts.append((part, key, tuple(leaves)))
        return FeedPlan(
            operation=operation,
            field=field,
            field_def=field_def,
            guard=guard,
            follow=follow,
            key=field.alias.value if field.alias else name,
            parts=tuple(parts),
        )

    def arguments(self, plan: FeedPlan, actor: Actor, variables: object) -> dict[str, Any] | None:
        """The coerced arguments, or None when strawberry should answer (it refuses better)."""
        if plan.guard.denial(actor) is not None or not isinstance(variables, dict | None):
            return None
        coerced = get_variable_values(
            self.core, plan.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        try:
            arguments = get_argument_values(plan.field_def, plan.field, coerced)
            feed._page_bounds(actor, arguments.get("after"), arguments["first"])
        except (GraphQLError, DomainError):
            return None
        return arguments

    # --- delivering -----------------------------------------------------------------------

    def message(self, plan: FeedPlan, operation_id: str, page: Page[Any]) -> str:
        """The `next` message of `page`; the payload serialised once per plan and page."""
        text_key = (id(plan), id(page))
        cached = self.texts.get(text_key)
        if cached is None or cached[0] is not page:
            if len(self.texts) >= MAX_TEXTS:
                del self.texts[next(iter(self.texts))]
            cached = (page, self._payload(plan, page))
            self.texts[text_key] = cached
        return f'{{"id":{json.dumps(operation_id)},"type":"next","payload":{cached[1]}}}'

    @staticmethod
    def _payload(plan: FeedPlan, page: Page[Any]) -> str:
        result: dict[str, Any] = {}
        for part, key, leaves in plan.parts:
            if part == "items":
                result[key] = [
                    {
                        leaf.key: None
                        if (value := getattr(item, leaf.attribute)) is None
                        else leaf.serialize(value)
                        for leaf in leaves
                    }
                    for item in page.items
                ]
            else:
                info = {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page}
                result[key] = {leaf.key: info[leaf.attribute] for leaf in leaves}
        return json.dumps({"data": {plan.key: result}}, separators=(",", ":"))


__all__ = ["FeedFastPath", "FeedPlan"]
