"""Creating, editing, listing and withdrawing firm applications; the submission checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date

from tortoise.transactions import in_transaction

from models import clock
from models.applications import Application
from models.roles import Role
from models.workflow import (
    EDITABLE,
    Action,
    ApplicationKind,
    ApplicationStatus,
    Channel,
    clears_customs,
)
from resolvers import audit
from resolvers.actor import Actor
from resolvers.applications import transitions
from resolvers.applications.access import get_application
from resolvers.applications.analysis import queue_analysis
from resolvers.errors import DomainError, DomainErrors, ErrorCode, invalid, invalid_state, not_found
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.workflow.requirements import missing_documents

COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
DOCUMENT_NO_RE = re.compile(r"^[A-Za-z0-9/._-]{1,64}$")


@dataclass(frozen=True)
class ApplicationData:
    """The application's own data (Tebliğ art. 8(2) import, 8(3) manufacture). None = unchanged."""

    import_date: date | None = None
    customs_declaration_no: str | None = None
    origin_country: str | None = None
    production_date: date | None = None
    invoice_no: str | None = None
    invoice_date: date | None = None
    test_devices_declared: bool | None = None
    notes: str | None = None


def _validated(data: ApplicationData, problems: list[DomainError]) -> dict[str, object]:
    """The cleaned values; every problem is appended to `problems` (all reported at once)."""
    values: dict[str, object] = {}
    today = clock.now().date()
    for spec in fields(data):
        value = getattr(data, spec.name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        values[spec.name] = value
    for name in ("import_date", "production_date", "invoice_date"):
        if isinstance(values.get(name), date) and values[name] > today:  # type: ignore[operator]
            problems.append(
                invalid(_camel(name), "tarih gelecekte olamaz", "the date cannot be in the future")
            )
    country = values.get("origin_country")
    if country is not None:
        values["origin_country"] = country = str(country).upper()
        if not COUNTRY_RE.match(country):
            problems.append(
                invalid(
                    "originCountry",
                    "ülke iki harfli ISO kodu olmalı (ör. CN)",
                    "country must be a two-letter ISO code (e.g. CN)",
                )
            )
    for name in ("customs_declaration_no", "invoice_no"):
        text = values.get(name)
        if text is not None and text != "" and not DOCUMENT_NO_RE.match(str(text)):
            problems.append(
                invalid(
                    _camel(name),
                    "yalnızca harf, rakam ve / . _ - kullanılabilir (en fazla 64)",
                    "only letters, digits and / . _ - (at most 64)",
                )
            )
    if isinstance(values.get("notes"), str) and len(str(values["notes"])) > 4000:
        problems.append(invalid("notes", "en fazla 4000 karakter", "at most 4000 characters"))
    return values


def checked(data: ApplicationData, problems: list[DomainError] | None = None) -> dict[str, object]:
    """`_validated`, raising every problem found (with those the caller found already)."""
    problems = problems if problems is not None else []
    values = _validated(data, problems)
    if problems:
        raise DomainErrors(problems)
    return values


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def create_application(
    actor: Actor,
    kind: ApplicationKind,
    data: ApplicationData,
    firm_id: int | None = None,
    channel: Channel = Channel.ELECTRONIC,
) -> Application:
    """A firm user starts an electronic application; staff enter a paper one for a firm.
    Every input problem is reported at once (DomainErrors), each naming its field."""
    problems: list[DomainError] = []
    if channel == Channel.PAPER:
        if not actor.has(Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE, Role.STAFF_ADMIN):
            raise DomainError(ErrorCode.FORBIDDEN)
        if firm_id is None:
            problems.append(
                invalid(
                    "firmId",
                    "evrak başvurusu bir firma adına girilir",
                    "a paper application needs a firm",
                )
            )
        else:
            from models.accounts import Firm

            if not await Firm.filter(id=firm_id).exists():
                problems.append(not_found("Firma", "Firm", field="firmId"))
    else:
        if not actor.is_firm or actor.firm_id is None:
            raise DomainError(ErrorCode.FORBIDDEN)
        if firm_id is not None and firm_id != actor.firm_id:
            problems.append(
                invalid(
                    "firmId",
                    "firma yalnızca evrak başvurularında seçilir; "
                    "elektronik başvuru sizin firmanız adınadır",
                    "a firm is chosen only for paper applications; yours is your own firm's",
                )
            )
        firm_id = actor.firm_id
    values = checked(data, problems)
    now = clock.now()
    async with in_transaction():
        application = await Application.create(
            firm_id=firm_id,
            kind=kind,
            channel=channel,
            created_by=actor.name,
            created_at=now,
            updated_at=now,
            **values,
        )
        await audit.record(
            actor,
            "application.created",
            "Application",
            application.id,
            {"kind": kind.value, "channel": channel.value},
            firm_id=firm_id,
        )
    return application


async def update_application(
    actor: Actor, application_id: int, data: ApplicationData
) -> Application:
    """Change the data while the application is a draft (art. 8(5): until review starts)."""
    values = checked(data)
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        require_editor(actor, application)
        if application.status not in EDITABLE:
            raise invalid_state(
                "yalnızca taslak başvurular değiştirilebilir", "only drafts can be changed"
            )
        for name, value in values.items():
            setattr(application, name, value)
        application.updated_at = clock.now()
        await application.save()
        await audit.record(
            actor,
            "application.updated",
            "Application",
            application.id,
            {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()},
            firm_id=application.firm_id,
        )
    return application


def require_editor(actor: Actor, application: Application) -> None:
    """Electronic applications are edited by their firm, paper ones by staff."""
    if application.channel == Channel.PAPER:
        if not actor.is_staff:
            raise DomainError(ErrorCode.FORBIDDEN)
    elif not (actor.is_firm and actor.firm_id == application.firm_id):
        raise DomainError(ErrorCode.FORBIDDEN)


async def missing_for_submission(application: Application) -> list[DomainError]:
    """Art. 10(2): incomplete applications are not taken into review — say what is missing
    (the data here, the documents in `resolvers.workflow.requirements`)."""
    missing: list[DomainError] = []

    def need(field: str, tr: str, en: str) -> None:
        missing.append(invalid(field, f"{tr} gerekli", f"{en} is required"))

    if clears_customs(application.kind, application.production_date):
        if application.import_date is None:
            need("importDate", "İthalat tarihi", "The import date")
        if not application.customs_declaration_no:
            need(
                "customsDeclarationNo",
                "Gümrük beyanname numarası",
                "The customs declaration number",
            )
        if not application.origin_country:
            need("originCountry", "İthal edilen ülke", "The country of origin")
    if application.kind == ApplicationKind.MANUFACTURE and application.production_date is None:
        need("productionDate", "İmalat tarihi", "The production date")
    if application.channel == Channel.ELECTRONIC:
        if not application.invoice_no:
            need("invoiceNo", "Fatura numarası", "The invoice number")
        if application.invoice_date is None:
            need("invoiceDate", "Fatura tarihi", "The invoice date")
    if application.kind == ApplicationKind.TEST and not application.test_devices_declared:
        missing.append(
            invalid(
                "testDevicesDeclared",
                "gümrük beyannamesinde cihazların test/numune olduğu belirtilmeli (madde 12(3))",
                "the customs declaration must state the devices are test/sample devices "
                "(art. 12(3))",
            )
        )
    if application.device_count == 0:
        missing.append(
            invalid("deviceList", "cihaz listesi yüklenmemiş", "no device list has been uploaded")
        )
    missing += await missing_documents(application)
    return missing


async def submit(actor: Actor, application_id: int) -> Application:
    """The firm user sends the draft to the supervisor; staff send a paper one to analysis."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        require_editor(actor, application)
        missing = await missing_for_submission(application)
        if missing:
            raise DomainErrors(missing)
        if application.channel == Channel.PAPER:
            await transitions.apply(actor, application, Action.SUBMIT_PAPER)
            await queue_analysis(application)
        else:
            await transitions.apply(actor, application, Action.SUBMIT)
    return application


async def send_to_analysis(actor: Actor, application_id: int) -> Application:
    """The firm's supervisor approves the submission: the technical checks start."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        await transitions.apply(actor, application, Action.SEND_TO_ANALYSIS)
        await queue_analysis(application)
    return application


async def send_back(actor: Actor, application_id: int, reason: str) -> Application:
    reason = reason.strip()
    if not reason:
        raise invalid("reason", "geri gönderme gerekçesi gerekli", "a reason is required")
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        return await transitions.apply(actor, application, Action.SEND_BACK, reason=reason)


async def cancel(actor: Actor, application_id: int, reason: str = "") -> Application:
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        return await transitions.apply(
            actor, application, Action.CANCEL, reason=reason.strip() or None
        )


async def reopen(actor: Actor, application_id: int) -> Application:
    """After a rejection the firm fixes the cause and resubmits (art. 10(4))."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        return await transitions.apply(actor, application, Action.REOPEN)


async def list_applications(
    actor: Actor,
    first: int,
    after: str | None,
    status: ApplicationStatus | None = None,
    firm_id: int | None = None,
    kind: ApplicationKind | None = None,
) -> Page[Application]:
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(Application.all(), actor)
    if status is not None:
        query = query.filter(status=status)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if kind is not None:
        query = query.filter(kind=kind)
    return await paginate(query, first, after, count=True)
