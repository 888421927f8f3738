"""Which documents an application needs before it is submitted (art. 8(2)(g), 8(3)(b),
10(2); guide §3), and which CE certificates its device list calls for.

Called from `drafts.missing_for_submission`, the one place that says what an incomplete
application lacks.

Paper applications (art. 9(2)): staff record the scans of the papers the firm delivered
(`resolvers.workflow.paper`) — the Ek-1 petition with its MARKA/MODEL/ADET table, the
certified customs declaration copy (imports), the capacity report (manufacture), the
original fee receipt and the signature circular; the maker's letter of a new TAC is
recorded when there is one. The petition's table must match the device list, brand/model
by brand/model (art. 10(3): information that does not agree is not taken on).

Electronic applications:

- Invoice scan: every electronic application but a manufacture (JPEG under 300 KB, guide §3).
- Capacity report: manufacture (art. 8(3)(b)), instead of an invoice.
- CE certificate for every brand/model group of the device list the firm goes on with —
  those with devices that can pass (a red group's devices fail the TAC and model match, so
  its certificate is not asked for) — once per firm and model (guide §3), for imports,
  manufacture and swap devices. Not for test/sample devices
  (often not certified yet, art. 12) nor spare mainboards (not a device model of their own).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.applications import Application
from models.documents import ApplicationDocument, CeCertificate, DocumentKind
from models.names import brand_model_key
from models.workflow import ApplicationKind, Channel, clears_customs
from resolvers import bulk
from resolvers.applications import declarations
from resolvers.applications.results import groups_of
from resolvers.errors import Bilingual, DomainError, ErrorCode, invalid

CE_KINDS = frozenset({ApplicationKind.IMPORT, ApplicationKind.MANUFACTURE, ApplicationKind.SWAP})
MAX_LISTED_CE = 20


@dataclass(frozen=True, slots=True)
class CeRequirement:
    brand: str
    model: str
    certificate: CeCertificate | None


def needs_ce_certificates(application: Application) -> bool:
    return application.channel == Channel.ELECTRONIC and application.kind in CE_KINDS


async def groups_going_on(application: Application) -> list[tuple[str, str]]:
    """The brand/model groups with devices that can pass: after the analysis, those with
    passing devices; before it, those that are not red."""
    groups = await groups_of(application)
    return [
        (g.brand, g.model)
        for g in groups
        if (g.passed_count if g.analysed else g.matching_count) > 0
    ]


async def ce_requirements(application: Application) -> list[CeRequirement]:
    """Every group the firm goes on with, with the firm's certificate for it, if any."""
    if not needs_ce_certificates(application):
        return []
    groups = await groups_going_on(application)
    if not groups:
        return []
    certificates = {
        (c.brand_key, c.model_key): c
        for c in await CeCertificate.filter(
            firm_id=application.firm_id,
            brand_key__in=sorted({brand_model_key(brand) for brand, _ in groups}),
        )
    }
    return [
        CeRequirement(
            brand, model, certificates.get((brand_model_key(brand), brand_model_key(model)))
        )
        for brand, model in groups
    ]


async def _kinds(application: Application) -> set[DocumentKind]:
    return set(
        await ApplicationDocument.filter(application_id=application.id)
        .distinct()
        .values_list("kind", flat=True)
    )


def _papers_needed(application: Application) -> list[tuple[DocumentKind, str, str]]:
    needed = [
        (DocumentKind.PETITION, "Ek-1 başvuru dilekçesinin taraması", "The Ek-1 petition's scan")
    ]
    if clears_customs(application.kind, application.production_date):
        needed.append(
            (
                DocumentKind.CUSTOMS_DECLARATION_COPY,
                "Gümrük beyannamesinin noter ya da gümrük onaylı kopyasının taraması "
                "(madde 9(2)(b))",
                "The scan of the certified copy of the customs declaration (art. 9(2)(b))",
            )
        )
    if application.kind == ApplicationKind.MANUFACTURE:
        needed.append(
            (
                DocumentKind.CAPACITY_REPORT,
                "Kapasite raporunun taraması (madde 9(2)(c))",
                "The capacity report's scan (art. 9(2)(c))",
            )
        )
    needed.append(
        (
            DocumentKind.FEE_RECEIPT,
            "Kayıt ücreti dekontunun aslının taraması (madde 9(2)(e))",
            "The scan of the original fee receipt (art. 9(2)(e))",
        )
    )
    needed.append(
        (
            DocumentKind.SIGNATURE_CIRCULAR,
            "Firma imza sirkülerinin taraması (madde 9(2)(f))",
            "The scan of the firm's signature circular (art. 9(2)(f))",
        )
    )
    return needed


async def _petition_differences(application: Application) -> list[DomainError]:
    """The petition's MARKA/MODEL/ADET rows (the declaration) against the device list."""
    if not await declarations.declared(application.id):
        return []
    found = await declarations.find_differences(bulk.current(), application.id)
    return [
        DomainError(
            ErrorCode.INVALID_INPUT,
            field="petition",
            reason=declarations.difference_text(difference),
        )
        for difference in found[:MAX_LISTED_CE]
    ]


async def _missing_papers(application: Application) -> list[DomainError]:
    kinds = await _kinds(application)
    missing = [
        invalid(f"paperDocuments.{kind.value}", f"{tr} gerekli", f"{en} is required")
        for kind, tr, en in _papers_needed(application)
        if kind not in kinds
    ]
    return missing + await _petition_differences(application)


async def missing_documents(application: Application) -> list[DomainError]:
    if application.channel == Channel.PAPER:
        return await _missing_papers(application)
    missing: list[DomainError] = []
    kinds = await _kinds(application)
    if application.kind != ApplicationKind.MANUFACTURE and DocumentKind.INVOICE not in kinds:
        missing.append(
            invalid(
                "invoiceScan",
                "fatura taraması gerekli (JPEG, 300 KB'tan küçük)",
                "the invoice scan is required (JPEG under 300 KB)",
            )
        )
    if (
        application.kind == ApplicationKind.MANUFACTURE
        and DocumentKind.CAPACITY_REPORT not in kinds
    ):
        missing.append(
            invalid(
                "capacityReport",
                "kapasite raporu gerekli (madde 8(3)(b))",
                "the capacity report is required (art. 8(3)(b))",
            )
        )
    without = [r for r in await ce_requirements(application) if r.certificate is None]
    for requirement in without[:MAX_LISTED_CE]:
        name = f"{requirement.brand} {requirement.model}"
        missing.append(
            invalid(
                "ceCertificates",
                f"{name} için CE belgesi gerekli (JPEG, 300 KB'tan küçük; model başına bir kez)",
                f"a CE certificate for {name} is required (JPEG under 300 KB; once per model)",
            )
        )
    if len(without) > MAX_LISTED_CE:
        missing.append(
            DomainError(
                ErrorCode.INVALID_INPUT,
                field="ceCertificates",
                reason=Bilingual(
                    f"toplam {len(without)} model için CE belgesi eksik",
                    f"CE certificates are missing for {len(without)} models in all",
                ),
            )
        )
    return missing
