"""Types every area shares: page info, enum labels, scalars."""

from __future__ import annotations

from typing import Protocol

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from models.labels import LABELS, enums_by_name
from models.roles import ClientKind, FirmKind, Role
from resolvers.download_links import file_rows, link_for
from schema.context import actor_of
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


DOWNLOAD_URL_DOC = (
    "A link a browser tab opens without a header, for the caller's session only; valid "
    "MCKS_DOWNLOAD_LINK_MINUTES (default 10). Null when there is no file or the caller may "
    "not read it."
)


async def file_url(info: Info, file_id: int | None) -> str | None:
    """The caller's download link of a file, absolute when the request's address is known."""
    if file_id is None:
        return None
    loader = info.context.loaders.get("file_rows")
    if loader is None:
        loader = info.context.loaders["file_rows"] = DataLoader(load_fn=file_rows)
    stored = await loader.load(file_id)
    link = link_for(actor_of(info), stored) if stored is not None else None
    request = info.context.request
    if link is None or request is None:
        return link
    return str(request.base_url).rstrip("/") + link
