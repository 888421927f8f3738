"""The one place that limits what a viewer sees: staff see all, a firm only its own rows."""

from __future__ import annotations

from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from resolvers.actor import Actor

M = TypeVar("M", bound=Model)


def visible_to(query: QuerySet[M], actor: Actor, firm_field: str = "firm_id") -> QuerySet[M]:
    if actor.is_staff:
        return query
    if actor.is_firm and actor.firm_id is not None:
        return query.filter(**{firm_field: actor.firm_id})
    # Anyone else (machine clients, anonymous) sees no firm data through this path.
    return query.filter(**{f"{firm_field}__in": []})
