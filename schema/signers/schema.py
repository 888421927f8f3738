"""GraphQL of firms' authorised signers (art. 8(1)): staff admins register and revoke them;
a firm and staff list them. Registering uploads a certificate: multipart, `X-MCKS-Upload: 1`."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from models.labels import label
from models.roles import Role
from models.signers import FirmSigner, SignerMatch
from resolvers.accounts import signers
from schema.applications.mutations import upload_chunks
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.errors import UserError, mutate
from schema.permissions import STAFF, requires

SignerMatchType = strawberry.enum(SignerMatch, name="SignerMatch")
REGISTRARS = requires(*signers.REGISTRARS)
FIRM_AND_STAFF = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR, *STAFF)


@strawberry.type(name="FirmSigner", description="An authorised signer of a firm (art. 8(1)).")
class FirmSignerType:
    id: int
    firm_id: int
    name: str
    title: str = strawberry.field(description="Unvan.")
    match: SignerMatchType  # type: ignore[valid-type]
    match_label: str
    subject: str = strawberry.field(description="The uploaded certificate's subject (RFC 4514).")
    issuer: str
    certificate_sha256: str = strawberry.field(
        description="SHA-256 of the uploaded certificate (the signer's, or the CA's)."
    )
    serial_number: str | None = strawberry.field(description="CA_SERIAL: decimal.")
    identity_number: str | None = strawberry.field(description="CA_IDENTITY.")
    not_after: datetime | None = strawberry.field(description="The uploaded certificate's end.")
    active: bool
    registered_by: str
    registered_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str

    @staticmethod
    def of(signer: FirmSigner, lang: str) -> FirmSignerType:
        return FirmSignerType(
            id=signer.id,
            firm_id=signer.firm_id,
            name=signer.name,
            title=signer.title,
            match=signer.match,
            match_label=label(signer.match, lang),
            subject=signer.subject,
            issuer=signer.issuer,
            certificate_sha256=signer.certificate_sha256,
            serial_number=signer.serial_number,
            identity_number=signer.identity_number,
            not_after=signer.not_after,
            active=signer.active,
            registered_by=signer.registered_by,
            registered_at=signer.registered_at,
            revoked_by=signer.revoked_by,
            revoked_at=signer.revoked_at,
            revoke_reason=signer.revoke_reason,
        )


@strawberry.type
class FirmSignerPayload:
    signer: FirmSignerType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FirmSignerConnection:
    items: list[FirmSignerType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.input
class RegisterFirmSignerInput:
    firm_id: int
    name: str = strawberry.field(
        default="", description="The signer's name; empty: the certificate's common name."
    )
    title: str = strawberry.field(default="", description="Unvan.")
    serial_number: str | None = strawberry.field(
        default=None,
        description="With `caCertificate`: the signer's certificate serial number (decimal, "
        "or hex as certificate viewers show it).",
    )
    identity_number: str | None = strawberry.field(
        default=None,
        description="With `caCertificate`: the signer's identity number (T.C. kimlik no), as "
        "the certificate's subject serialNumber carries it.",
    )


@strawberry.type
class SignerQueries:
    @strawberry.field(
        extensions=FIRM_AND_STAFF,
        description="Authorised signers (a firm sees its own; staff filter by firm). Revoked "
        "ones only with `includeRevoked`.",
    )
    async def firm_signers(
        self,
        info: Info,
        firm_id: int | None = None,
        include_revoked: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> FirmSignerConnection:
        page = await signers.list_signers(actor_of(info), firm_id, include_revoked, first, after)
        lang = lang_of(info)
        return FirmSignerConnection(
            items=[FirmSignerType.of(s, lang) for s in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )


def _payload(info: Info):  # type: ignore[no-untyped-def]
    lang = lang_of(info)
    return (
        lambda signer: FirmSignerPayload(signer=FirmSignerType.of(signer, lang)),
        lambda errors: FirmSignerPayload(errors=errors),
    )


@strawberry.type
class SignerMutations:
    @strawberry.mutation(
        extensions=REGISTRARS,
        description="Register an authorised signer of a firm (art. 8(1)): upload either the "
        "signer's certificate (`certificate`), or the certificate authority's (`caCertificate`) "
        "with the signer's serial or identity number in the input. PEM or DER. Multipart "
        "(`X-MCKS-Upload: 1`).",
    )
    async def register_firm_signer(
        self,
        info: Info,
        input: RegisterFirmSignerInput,
        certificate: Upload | None = None,
        ca_certificate: Upload | None = None,
    ) -> FirmSignerPayload:
        data = signers.SignerInput(
            firm_id=input.firm_id,
            name=input.name,
            title=input.title,
            serial_number=input.serial_number,
            identity_number=input.identity_number,
        )
        return await mutate(
            info,
            signers.register_signer(
                actor_of(info),
                data,
                upload_chunks(certificate) if certificate is not None else None,
                upload_chunks(ca_certificate) if ca_certificate is not None else None,
            ),
            *_payload(info),
        )

    @strawberry.mutation(
        extensions=REGISTRARS,
        description="Revoke a signer registration (the signer left, the certificate was lost): "
        "documents it signs are refused from now on.",
    )
    async def revoke_firm_signer(
        self, info: Info, signer_id: int, reason: str
    ) -> FirmSignerPayload:
        return await mutate(
            info, signers.revoke_signer(actor_of(info), signer_id, reason), *_payload(info)
        )
