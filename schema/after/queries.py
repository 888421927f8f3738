"""After-registration queries: replacement reports and replacements, IMEI corrections,
pairings and pairing flags (firms see their own, staff all), and the operators' pairing feed."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.after import changed_imeis, corrections, pairing, pairing_changes, replacements
from resolvers.pagination import Page
from schema.after.types import (
    CorrectionRequestType,
    CorrectionStatusType,
    HeldImeiConnection,
    HeldImeiType,
    ImeiCorrectionRequestConnection,
    ImeiPairingConnection,
    ImeiPairingType,
    PairingChangeConnection,
    PairingChangeType,
    PairingFlagConnection,
    PairingFlagType,
    ReplacementChannelType,
    ReplacementConnection,
    ReplacementLineConnection,
    ReplacementLineType,
    ReplacementReportConnection,
    ReplacementReportStatusType,
    ReplacementReportType,
    ReplacementType,
)
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.permissions import ANY_PERSON, STAFF, requires

PEOPLE = requires(*ANY_PERSON)


def _page_info(page: Page[Any]) -> PageInfo:
    return PageInfo.of(page)


@strawberry.type
class AfterRegistrationQueries:
    @strawberry.field(
        extensions=PEOPLE,
        description="Replacement reports (typed pairs and Ek-3 files): a firm sees its own, "
        "staff filter by firm. Newest first.",
    )
    async def replacement_reports(
        self,
        info: Info,
        status: ReplacementReportStatusType | None = None,  # type: ignore[valid-type]
        channel: ReplacementChannelType | None = None,  # type: ignore[valid-type]
        firm_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ReplacementReportConnection:
        page = await replacements.list_reports(
            actor_of(info), status, channel, firm_id, first, after
        )
        lang = lang_of(info)
        return ReplacementReportConnection(
            items=[ReplacementReportType.of(report, lang) for report in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=PEOPLE)
    async def replacement_report(self, info: Info, id: int) -> ReplacementReportType:
        report = await replacements.get_report(actor_of(info), id)
        return ReplacementReportType.of(report, lang_of(info))

    @strawberry.field(
        extensions=PEOPLE,
        description="An Ek-3 report's pair lines in file order; `valid: false` lists the "
        "refused lines with their problem.",
    )
    async def replacement_report_lines(
        self,
        info: Info,
        report_id: int,
        valid: bool | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> ReplacementLineConnection:
        page = await changed_imeis.list_lines(actor_of(info), report_id, valid, first, after)
        lang = lang_of(info)
        return ReplacementLineConnection(
            items=[ReplacementLineType.of(line, lang) for line in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=PEOPLE,
        description="Applied replacements, newest first: by firm, by application (its IMEIs "
        "replaced or its held IMEIs used), by IMEI (old or new).",
    )
    async def replacements(
        self,
        info: Info,
        firm_id: int | None = None,
        application_id: int | None = None,
        imei: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ReplacementConnection:
        page = await replacements.list_replacements(
            actor_of(info), firm_id, application_id, imei, first, after
        )
        return ReplacementConnection(
            items=[ReplacementType.of(r) for r in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=PEOPLE,
        description="Mainboard/swap IMEIs still waiting for their replacement report: a firm "
        "sees its own, staff filter by firm or application. Newest first.",
    )
    async def held_imeis(
        self,
        info: Info,
        firm_id: int | None = None,
        application_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> HeldImeiConnection:
        page = await replacements.list_held(actor_of(info), firm_id, application_id, first, after)
        return HeldImeiConnection(
            items=[HeldImeiType.of(h) for h in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=PEOPLE, description="Newest first.")
    async def imei_correction_requests(
        self,
        info: Info,
        status: CorrectionStatusType | None = None,  # type: ignore[valid-type]
        firm_id: int | None = None,
        application_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ImeiCorrectionRequestConnection:
        page = await corrections.list_corrections(
            actor_of(info), status, firm_id, application_id, first, after
        )
        lang = lang_of(info)
        return ImeiCorrectionRequestConnection(
            items=[CorrectionRequestType.of(view, lang) for view in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=PEOPLE)
    async def imei_correction_request(self, info: Info, id: int) -> CorrectionRequestType:
        view = await corrections.get_correction(actor_of(info), id)
        return CorrectionRequestType.of(view, lang_of(info))

    @strawberry.field(
        extensions=PEOPLE,
        description="Current pairings: a firm sees those of the IMEIs it registered, staff "
        "filter by firm; `imei` finds one IMEI's pairing. Newest first.",
    )
    async def imei_pairings(
        self,
        info: Info,
        firm_id: int | None = None,
        imei: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ImeiPairingConnection:
        page = await pairing.list_pairings(actor_of(info), firm_id, imei, first, after)
        return ImeiPairingConnection(
            items=[ImeiPairingType.of(p) for p in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=PEOPLE,
        description="IMEIs staff flagged for pairing (open ones by default). Newest first.",
    )
    async def pairing_flags(
        self,
        info: Info,
        open_only: bool = True,
        firm_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> PairingFlagConnection:
        page = await pairing.list_flags(actor_of(info), open_only, firm_id, first, after)
        return PairingFlagConnection(
            items=[PairingFlagType.of(f) for f in page.items],
            page_info=_page_info(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=requires(Role.OPERATOR, *STAFF),
        description="Every pairing change after the cursor, in order and without gaps; "
        "`first` up to 10,000. Replaying from the start (ADD/UPDATE = upsert, REMOVE = "
        "delete) gives the current pairings an EIR enforces.",
    )
    async def pairing_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> PairingChangeConnection:
        page = await pairing_changes.pairing_changes(actor_of(info), after, first)
        return PairingChangeConnection(
            items=cast(list[PairingChangeType], page.items), page_info=_page_info(page)
        )
