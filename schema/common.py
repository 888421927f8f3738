"""Types every area shares: page info, enum labels, scalars."""

from __future__ import annotations

from typing import Protocol

import strawberry
from strawberry.types import Info

from models.labels import LABELS, enums_by_name
from models.roles import ClientKind, FirmKind, Role
from schema.permissions import public

RoleType = strawberry.enum(Role, name="Role")
FirmKindType = strawberry.enum(FirmKind, name="FirmKind")
ClientKindType = strawberry.enum(ClientKind, name="ClientKind")


class Paged(Protocol):
    """Any page of results (resolvers' `Page`, device pages…)."""

    @property
    def end_cursor(self) -> str | None: ...

    @property
    def has_next_page(self) -> bool: ...


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool

    @staticmethod
    def of(page: Paged) -> PageInfo:
        return PageInfo(end_cursor=page.end_cursor, has_next_page=page.has_next_page)


@strawberry.type(description="One enum value with its labels, for portals to show.")
class EnumLabel:
    value: str
    label: str = strawberry.field(description="In the caller's language (Accept-Language).")
    label_tr: str
    label_en: str


@strawberry.type
class CommonQueries:
    @strawberry.field(
        extensions=public(),
        description="Labels of an enum's values (e.g. `Role`, `FirmKind`) in Turkish and English.",
    )
    def enum_labels(self, info: Info, enum: str) -> list[EnumLabel]:
        enum_cls = enums_by_name().get(enum)
        if enum_cls is None:
            return []
        lang = info.context.lang
        return [
            EnumLabel(value=name, label=en if lang == "en" else tr, label_tr=tr, label_en=en)
            for name, (tr, en) in LABELS[enum_cls].items()
        ]
