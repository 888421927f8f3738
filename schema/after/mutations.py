"""After-registration mutations: replacement reports (typed or Ek-3), IMEI corrections and
their decisions, pairing. Uploads are multipart with `X-MCKS-Upload: 1`."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from models.after import ReplacementReport
from models.network import ImeiPairing
from models.roles import Role
from resolvers.after import changed_imeis, corrections, pairing, replacements
from resolvers.after.corrections import CorrectionView
from resolvers.after.replacements import ReportedPair
from schema.after.types import (
    CorrectionRequestType,
    ImeiCorrectionPayload,
    ImeiPairingPayload,
    ImeiPairingType,
    PairingFlagPayload,
    PairingFlagType,
    ReplacementReportPayload,
    ReplacementReportType,
)
from schema.applications.mutations import upload_chunks
from schema.context import actor_of, lang_of
from schema.errors import UserError, mutate
from schema.permissions import requires

FIRM = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR)
DECIDERS = requires(Role.STAFF_REVIEWER, Role.STAFF_ADMIN)


@strawberry.input
class ReplacementPairInput:
    old_imei: str = strawberry.field(description="Whitelisted, registered by your firm.")
    new_imei: str = strawberry.field(
        description="Held from your firm's mainboard or swap-device application."
    )


@strawberry.input
class ImeiCorrectionPairInput:
    wrong_imei: str
    right_imei: str


@strawberry.input
class RequestImeiCorrectionInput:
    application_id: int
    pairs: list[ImeiCorrectionPairInput]
    note: str = ""


def _name(file: Upload, default: str) -> str:
    return getattr(file, "filename", None) or default


def _report_payload(info: Info) -> Callable[[ReplacementReport], ReplacementReportPayload]:
    lang = lang_of(info)
    return lambda report: ReplacementReportPayload(report=ReplacementReportType.of(report, lang))


def _report_failed(errors: list[UserError]) -> ReplacementReportPayload:
    return ReplacementReportPayload(errors=errors)


def _correction_payload(info: Info) -> Callable[[CorrectionView], ImeiCorrectionPayload]:
    lang = lang_of(info)
    return lambda view: ImeiCorrectionPayload(request=CorrectionRequestType.of(view, lang))


def _correction_failed(errors: list[UserError]) -> ImeiCorrectionPayload:
    return ImeiCorrectionPayload(errors=errors)


def _pairing_ok(pairing_row: ImeiPairing) -> ImeiPairingPayload:
    return ImeiPairingPayload(pairing=ImeiPairingType.of(pairing_row))


def _pairing_failed(errors: list[UserError]) -> ImeiPairingPayload:
    return ImeiPairingPayload(errors=errors)


@strawberry.type
class AfterRegistrationMutations:
    @strawberry.mutation(
        extensions=FIRM,
        description="Report replacements (art. 11): each whitelisted old IMEI leaves the "
        "whitelist as its held new IMEI enters it. All pairs or none; up to 1,000 (more: "
        "`uploadChangedImeiReport`).",
    )
    async def report_replacements(
        self, info: Info, pairs: list[ReplacementPairInput]
    ) -> ReplacementReportPayload:
        return await mutate(
            info,
            replacements.report_replacements(
                actor_of(info), [ReportedPair(p.old_imei, p.new_imei) for p in pairs]
            ),
            _report_payload(info),
            _report_failed,
        )

    @strawberry.mutation(
        extensions=FIRM,
        description="Upload an Ek-3 text file of changed IMEIs (art. 16). Every line is "
        "checked and the report waits for `confirmChangedImeiReport`; nothing is applied "
        "before. Multipart request; send the header `X-MCKS-Upload: 1`.",
    )
    async def upload_changed_imei_report(
        self, info: Info, file: Upload
    ) -> ReplacementReportPayload:
        return await mutate(
            info,
            changed_imeis.upload_changed_imei_report(
                actor_of(info), upload_chunks(file), _name(file, "ek3.txt")
            ),
            _report_payload(info),
            _report_failed,
        )

    @strawberry.mutation(
        extensions=FIRM,
        description="Decide on a checked Ek-3 report: `applyValid: true` applies its valid "
        "pairs (checked again; if any stopped being valid, nothing is applied and "
        "REPORT_OUTDATED asks you to decide again), `false` discards it.",
    )
    async def confirm_changed_imei_report(
        self, info: Info, report_id: int, apply_valid: bool
    ) -> ReplacementReportPayload:
        return await mutate(
            info,
            changed_imeis.confirm_changed_imei_report(actor_of(info), report_id, apply_valid),
            _report_payload(info),
            _report_failed,
        )

    @strawberry.mutation(
        extensions=FIRM,
        description="Ask to correct wrongly declared IMEIs of a registered application "
        "(art. 13), with the petition and copies of the import documents (PDF or JPEG). "
        "Multipart request; send the header `X-MCKS-Upload: 1`.",
    )
    async def request_imei_correction(
        self, info: Info, input: RequestImeiCorrectionInput, petition: Upload, documents: Upload
    ) -> ImeiCorrectionPayload:
        return await mutate(
            info,
            corrections.request_correction(
                actor_of(info),
                input.application_id,
                [corrections.RequestedPair(p.wrong_imei, p.right_imei) for p in input.pairs],
                input.note,
                upload_chunks(petition),
                _name(petition, "dilekce"),
                upload_chunks(documents),
                _name(documents, "ithalat-belgeleri"),
            ),
            _correction_payload(info),
            _correction_failed,
        )

    @strawberry.mutation(
        extensions=DECIDERS,
        description="Approve a correction: the wrong IMEIs leave the whitelist (CORRECTED), "
        "the right ones enter it, and the decision letter is issued.",
    )
    async def approve_imei_correction(self, info: Info, request_id: int) -> ImeiCorrectionPayload:
        return await mutate(
            info,
            corrections.approve_correction(actor_of(info), request_id),
            _correction_payload(info),
            _correction_failed,
        )

    @strawberry.mutation(extensions=DECIDERS, description="Reject a correction with a reason.")
    async def reject_imei_correction(
        self, info: Info, request_id: int, reason: str
    ) -> ImeiCorrectionPayload:
        return await mutate(
            info,
            corrections.reject_correction(actor_of(info), request_id, reason),
            _correction_payload(info),
            _correction_failed,
        )

    @strawberry.mutation(
        extensions=DECIDERS,
        description="Flag a registered IMEI for pairing (its identity was found altered); "
        "the firm that registered it may then pair it.",
    )
    async def flag_imei_for_pairing(self, info: Info, imei: str, reason: str) -> PairingFlagPayload:
        return await mutate(
            info,
            pairing.flag_for_pairing(actor_of(info), imei, reason),
            lambda flag: PairingFlagPayload(flag=PairingFlagType.of(flag)),
            lambda errors: PairingFlagPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=FIRM,
        description="Pair a clone-suspected or flagged IMEI your firm registered with one GSM "
        "number (art. 14): operators then allow it only with that number. Once only; "
        "changes are made by the regulator.",
    )
    async def pair_imei(self, info: Info, imei: str, msisdn: str) -> ImeiPairingPayload:
        return await mutate(
            info, pairing.pair_imei(actor_of(info), imei, msisdn), _pairing_ok, _pairing_failed
        )

    @strawberry.mutation(extensions=DECIDERS, description="Give a paired IMEI another number.")
    async def change_imei_pairing(
        self, info: Info, imei: str, msisdn: str, reason: str
    ) -> ImeiPairingPayload:
        return await mutate(
            info,
            pairing.change_pairing(actor_of(info), imei, msisdn, reason),
            _pairing_ok,
            _pairing_failed,
        )

    @strawberry.mutation(
        extensions=DECIDERS, description="End a pairing; returns the pairing as it was."
    )
    async def remove_imei_pairing(self, info: Info, imei: str, reason: str) -> ImeiPairingPayload:
        return await mutate(
            info,
            pairing.remove_pairing(actor_of(info), imei, reason),
            _pairing_ok,
            _pairing_failed,
        )
