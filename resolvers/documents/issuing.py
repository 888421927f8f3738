"""Issuing a document the Kurum signs: the verification code and signatory printed on it,
the PAdES signature, the stored file, and the row the public verifies the code against.

Two steps, because the code must be in the HTML before it is rendered:
``seal = await prepare_seal()`` → build the HTML with it → ``await issue_signed(...)``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from models import clock
from models.accounts import Firm
from models.documents import IssuedDocument, IssuedKind
from models.files import FileKind, StoredFile
from models.labels import label
from resolvers import files
from resolvers.actor import Actor
from resolvers.documents.layout import DEFAULT_ISSUER, DocumentSeal
from resolvers.documents.pdf import render_pdf
from resolvers.documents.seal import (
    SignRequest,
    new_verification_code,
    normalise_code,
    signatory,
    signing_key,
)
from resolvers.operators.rate_limit import PUBLIC_QUERIES
from resolvers.settings import get_settings

VERIFY_PATH = "/documents/verify/"


@dataclass(frozen=True, slots=True)
class PreparedSeal:
    seal: DocumentSeal
    request: SignRequest


def verify_url(code: str) -> str:
    return f"{get_settings().public_url}{VERIFY_PATH}{code}"


async def prepare_seal(kind: IssuedKind) -> PreparedSeal:
    """A fresh code and today's signatory (the first call may make the local CA: a thread)."""
    key = await asyncio.to_thread(signing_key)
    who = await asyncio.to_thread(signatory, key)
    code = new_verification_code()
    return PreparedSeal(
        DocumentSeal(code, who.name, who.title, verify_url(code)),
        SignRequest(key, f"{label(kind, 'tr')} ({DEFAULT_ISSUER})", who.name),
    )


async def store_generated(actor: Actor, pdf: bytes, *, firm_id: int, file_name: str) -> StoredFile:
    """A PDF we generated, stored for its firm (`GET /files/{id}` serves it to the firm and
    staff only)."""
    return await files.store(
        actor,
        pdf,
        kind=FileKind.GENERATED,
        original_name=file_name,
        content_type="application/pdf",
        firm_id=firm_id,
        max_bytes=len(pdf),
    )


async def issue_signed(
    actor: Actor,
    prepared: PreparedSeal,
    kind: IssuedKind,
    number: str,
    html: str,
    *,
    firm_id: int,
    file_name: str,
    application_id: int | None = None,
) -> StoredFile:
    """Render and sign in a PDF worker, store it for the firm, keep its code (call inside the
    operation's transaction, so a failed operation leaves no code that verifies)."""
    pdf = await render_pdf(html, prepared.request)
    stored = await store_generated(actor, pdf, firm_id=firm_id, file_name=file_name)
    seal = prepared.seal
    try:
        await IssuedDocument.create(
            code=seal.code,
            kind=kind,
            number=number,
            firm_id=firm_id,
            application_id=application_id,
            file_id=stored.id,
            sha256=stored.sha256,
            signatory_name=seal.signatory_name,
            signatory_title=seal.signatory_title,
            issued_at=clock.now(),
        )
    except IntegrityError as exc:  # 60 random bits: a repeat means something is broken
        raise RuntimeError("a verification code was issued twice") from exc
    return stored


@dataclass(frozen=True, slots=True)
class Verification:
    """What anyone holding a document learns from its code: that the Kurum issued it, what
    it is, to whom, and the SHA-256 the PDF must have."""

    code: str
    valid: bool
    kind: IssuedKind | None = None
    number: str | None = None
    firm_name: str | None = None
    issued_at: datetime | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None
    sha256: str | None = None


async def verify_code(actor: Actor, code: str) -> Verification:
    """Rate-limited per client address like the public IMEI query (codes are unguessable,
    but nobody should be able to try them in bulk)."""
    PUBLIC_QUERIES.take(actor.ip or "unknown", get_settings().public_query_rate_per_minute)
    normalised = normalise_code(code[:64])
    issued = await IssuedDocument.get_or_none(code=normalised)
    if issued is None:
        return Verification(code=normalised, valid=False)
    firm = await Firm.get_or_none(id=issued.firm_id)
    return Verification(
        code=normalised,
        valid=True,
        kind=issued.kind,
        number=issued.number,
        firm_name=firm.name if firm else None,
        issued_at=issued.issued_at,
        signatory_name=issued.signatory_name,
        signatory_title=issued.signatory_title,
        sha256=issued.sha256,
    )
