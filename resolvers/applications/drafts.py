"""Creating, editing, listing and withdrawing firm applications; the submission checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.labels import label
from models.progress import ApplicationProgress
from models.roles import FirmKind, Role
from models.workflow import (
    EDITABLE,
    KINDS_BY_FIRM,
    MADE_OR_IMPORTED,
    Action,
    ApplicationKind,
    ApplicationStatus,
    Channel,
    actions_available,
    clears_customs,
    may_file,
)
from resolvers import audit
from resolvers.actor import Actor
from resolvers.applications import declarations, transitions
from resolvers.applications.access import get_application
from resolvers.applications.analysis import queue_analysis
from resolvers.errors import (
    Bilingual,
    DomainError,
    DomainErrors,
    ErrorCode,
    invalid,
    invalid_state,
    not_found,
)
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
    # Ek-1's MARKA / MODEL / ADET table; given, it replaces the whole declaration.
    declared_devices: Sequence[declarations.DeclaredLine] | None = None


def _validated(data: ApplicationData, problems: list[DomainError]) -> dict[str, object]:
    """The cleaned values; every problem is appended to `problems` (all reported at once)."""
    values: dict[str, object] = {}
    today = clock.now().date()
    for spec in fields(data):
        value = getattr(data, spec.name)
        if value is None or spec.name == "declared_devices":
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
    if data.declared_devices is not None:
        values["declared_devices"] = declarations.validated(data.declared_devices, problems)
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
        elif not await Firm.filter(id=firm_id).exists():
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
    firm = await Firm.get_or_none(id=firm_id) if firm_id is not None else None
    if firm is not None:
        _check_firm_kind(firm.kind, kind, data.production_date, problems)
    values = checked(data, problems)
    declared = values.pop("declared_devices", None)
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
        if declared:
            await declarations.replace(application.id, declared)  # type: ignore[arg-type]
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
    """Change the data while the application is a draft (art. 8(5): until review starts;
    a submitted one is taken back to draft first, `withdraw_to_draft`)."""
    problems: list[DomainError] = []
    values = _validated(data, problems)
    declared = values.pop("declared_devices", None)
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        require_editor(actor, application)
        if application.status not in EDITABLE:
            raise invalid_state(
                "yalnızca taslak başvurular değiştirilebilir; incelemeye alınana kadar "
                "başvuruyu taslağa geri alabilirsiniz (madde 8(5))",
                "only drafts can be changed; until a reviewer takes it you may take the "
                "application back to draft (art. 8(5))",
            )
        firm = await Firm.get(id=application.firm_id)
        production_date = values.get("production_date", application.production_date)
        _check_firm_kind(firm.kind, application.kind, production_date, problems)  # type: ignore[arg-type]
        if problems:
            raise DomainErrors(problems)
        for name, value in values.items():
            setattr(application, name, value)
        if declared is not None:
            await declarations.replace(application.id, declared)  # type: ignore[arg-type]
        application.updated_at = clock.now()
        await application.save()
        await audit.record(
            actor,
            "application.updated",
            "Application",
            application.id,
            {
                **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()},
                **(
                    {"declaredDevices": [[d.brand, d.model, d.count] for d in declared]}  # type: ignore[attr-defined]
                    if declared is not None
                    else {}
                ),
            },
            firm_id=application.firm_id,
        )
    return application


def _check_firm_kind(
    firm_kind: FirmKind,
    kind: ApplicationKind,
    production_date: date | None,
    problems: list[DomainError],
) -> None:
    """An importer files imports, a manufacturer what it makes; both their own mainboards,
    swap and test devices — an importer's imported, a manufacturer's made here."""
    if not may_file(firm_kind, kind):
        allowed = sorted(KINDS_BY_FIRM[firm_kind])
        problems.append(
            DomainError(
                ErrorCode.APPLICATION_KIND_NOT_ALLOWED,
                field="kind",
                firm_kind=Bilingual(label(firm_kind, "tr"), label(firm_kind, "en").lower()),
                kind=Bilingual(label(kind, "tr"), label(kind, "en").lower()),
                allowed=Bilingual(
                    ", ".join(label(k, "tr") for k in allowed),
                    ", ".join(label(k, "en").lower() for k in allowed),
                ),
            )
        )
    elif (
        kind in MADE_OR_IMPORTED and firm_kind == FirmKind.IMPORTER and production_date is not None
    ):
        problems.append(
            invalid(
                "productionDate",
                "ithalatçı firmanın anakart ve takas cihazları ithal edilir; imalat tarihi "
                "değil ithalat bilgileri verilir",
                "an importer's mainboards and swap devices are imported: give the import "
                "data, not a production date",
            )
        )


def is_editor(actor: Actor, application: Application) -> bool:
    """Electronic applications are edited by their firm, paper ones by staff."""
    if application.channel == Channel.PAPER:
        return actor.is_staff
    return actor.is_firm and actor.firm_id == application.firm_id


def require_editor(actor: Actor, application: Application) -> None:
    if not is_editor(actor, application):
        raise DomainError(ErrorCode.FORBIDDEN)


# The actions of whoever edits the application (`is_editor`), and the art. 8(5) changes.
EDITOR_ACTIONS = frozenset(
    {Action.SUBMIT, Action.SUBMIT_PAPER, Action.CANCEL, Action.WITHDRAW_TO_DRAFT, Action.REOPEN}
)
FIRM_CHANGES = frozenset({Action.CANCEL, Action.WITHDRAW_TO_DRAFT})


async def available_actions(actor: Actor, application: Application) -> list[Action]:
    """What the caller may do now, as the mutations would judge it: the role's transitions
    from this status, less the editor's when the caller is not its editor, the other
    channel's submission, and the art. 8(5) changes once a reviewer has taken it."""
    actions = actions_available(application.status, actor.role)
    if not is_editor(actor, application):
        actions = [a for a in actions if a not in EDITOR_ACTIONS]
    other_submit = Action.SUBMIT if application.channel == Channel.PAPER else Action.SUBMIT_PAPER
    actions = [a for a in actions if a != other_submit]
    if application.status == ApplicationStatus.UNDER_REVIEW and FIRM_CHANGES & set(actions):
        progress = await ApplicationProgress.get_or_none(application_id=application.id)
        if progress is not None and progress.reviewer_id is not None:
            actions = [a for a in actions if a not in FIRM_CHANGES]
    return actions


async def missing_for_submission(application: Application) -> list[DomainError]:
    """Art. 10(2): incomplete applications are not taken into review — say what is missing
    (the data here, the documents in `resolvers.workflow.requirements`)."""
    missing: list[DomainError] = []
    firm = await Firm.get(id=application.firm_id)

    def need(field: str, tr: str, en: str) -> None:
        missing.append(invalid(field, f"{tr} gerekli", f"{en} is required"))

    made_here = application.kind == ApplicationKind.MANUFACTURE or (
        application.kind in MADE_OR_IMPORTED and firm.kind == FirmKind.MANUFACTURER
    )
    # A manufacturer's own mainboards and swap devices are made here, not imported.
    if made_here and application.production_date is None:
        need("productionDate", "İmalat tarihi", "The production date")
    elif clears_customs(application.kind, application.production_date):
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
    # Art. 8(3): a manufacture shows its capacity report, not an invoice.
    if (
        application.channel == Channel.ELECTRONIC
        and application.kind != ApplicationKind.MANUFACTURE
    ):
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
    # A paper application's declaration is its petition's table, asked for with the petition.
    if application.channel != Channel.PAPER and not await declarations.declared(application.id):
        missing.append(
            invalid(
                declarations.FIELD,
                "beyan edilen cihazlar (marka, model, adet; Ek-1, madde 8(2)) gerekli",
                "the declared devices (brand, model, count; Ek-1, art. 8(2)) are required",
            )
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


async def _firm_change(actor: Actor, application_id: int, action: Action) -> Application:
    """Lock the firm's application for an art. 8(5) change: refused once a reviewer took it."""
    application = await get_application(actor, application_id, for_update=True)
    transitions.check(actor, application, action)
    require_editor(actor, application)
    if application.status == ApplicationStatus.UNDER_REVIEW:
        progress = await ApplicationProgress.get_or_none(application_id=application.id)
        if progress is not None and progress.reviewer_id is not None:
            raise invalid_state(
                f"başvuru {progress.reviewer_name} tarafından incelemeye alındı; artık "
                "değiştirilemez (madde 8(5))",
                f"{progress.reviewer_name} has taken the application for review; it can no "
                "longer be changed (art. 8(5))",
            )
    return application


async def cancel(actor: Actor, application_id: int, reason: str = "") -> Application:
    """The firm withdraws its application until a reviewer takes it (art. 8(5))."""
    async with in_transaction():
        application = await _firm_change(actor, application_id, Action.CANCEL)
        return await transitions.apply(
            actor, application, Action.CANCEL, reason=reason.strip() or None
        )


async def withdraw_to_draft(actor: Actor, application_id: int, reason: str = "") -> Application:
    """Art. 8(5): the firm takes its submitted application back to draft to change it, until
    a reviewer takes it; submitting again runs the analysis again (and a new signature)."""
    async with in_transaction():
        application = await _firm_change(actor, application_id, Action.WITHDRAW_TO_DRAFT)
        return await transitions.apply(
            actor, application, Action.WITHDRAW_TO_DRAFT, reason=reason.strip() or None
        )


async def reopen(actor: Actor, application_id: int) -> Application:
    """After a rejection the cause is fixed and the application taken up again (art. 10(4)):
    by the firm (electronic) or the staff who enter it (paper, art. 10(5))."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, Action.REOPEN)
        require_editor(actor, application)
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
