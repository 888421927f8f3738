"""Checking the firm's e-signed PDFs (guide §3.1 and §6.1) with pyHanko.

What "e-signed" means here, in order (the first failure is the answer):

1. The PDF carries at least one signature field with a CMS/PAdES signature
   (else SIGNATURE_MISSING).
2. Integrity: every signature's digest matches the bytes it covers and its CMS signature
   matches its certificate; the newest signature covers the whole file (nothing was added
   after it, except signature maintenance such as timestamps/validation data), and older
   ones saw only later signing (else SIGNATURE_INVALID).
3. The signed document is the one we issued: it starts with the exact bytes of the PDF the
   firm downloaded (signing tools append an incremental update), so a signature on some
   other PDF is refused (DOCUMENT_MISMATCH).
4. Trust, only when `MCKS_SIGNATURE_TRUST_ROOTS` names a directory of CA certificates: every
   signer's certificate must chain to one of them, offline (no fetching; revocation is
   soft-fail) (else SIGNATURE_UNTRUSTED). Without it, `trusted` is None and the caller
   records "trust not verified" in the audit trail.

A signature already in the issued PDF is the Kurum's own (it signs the cover letter it
prepares): its integrity is checked with the rest, but it is not the firm's signature, so it
neither counts as one nor needs the firm's trust roots.

Validation is CPU work (hashing, public-key operations), so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    PdfSignatureStatus,
    SignatureCoverageLevel,
    SignatureStatus,
)
from pyhanko_certvalidator import ValidationContext

from resolvers.errors import Bilingual, DomainError, ErrorCode, invalid
from resolvers.settings import get_settings

log = logging.getLogger("mcks.signatures")

# Without trust roots no certificate path can be built, and pyhanko logs that expected
# failure as a warning with a traceback for every upload: quiet it for those checks only
# (our own one line says what was and was not checked).
_integrity_only: ContextVar[bool] = ContextVar("integrity_only", default=False)


class _QuietPathBuilding(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_integrity_only.get() and record.levelno <= logging.WARNING)


for _name in ("pyhanko.sign.validation.generic_cms", "pyhanko_certvalidator"):
    logging.getLogger(_name).addFilter(_QuietPathBuilding())

TRUST_NOT_VERIFIED = "trust not verified (no trust roots configured)"
_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
# Changes a signing tool may append after the newest signature without touching content.
_MAINTENANCE = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# What may follow an older signature: more signing (new signature fields filled in).
_LATER_SIGNING = (*_MAINTENANCE, ModificationLevel.FORM_FILLING)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    signers: tuple[str, ...]
    trusted: bool | None  # None: no trust roots configured, only integrity was checked

    @property
    def signer(self) -> str:
        return ", ".join(self.signers)

    @property
    def trust_note(self) -> str:
        if self.trusted is None:
            return TRUST_NOT_VERIFIED
        return "trusted" if self.trusted else "untrusted"


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the worker thread found (plain data; errors are raised on the loop's side)."""

    signers: tuple[str, ...] = ()
    untrusted: tuple[str, ...] = ()
    missing: bool = False
    problem: tuple[str, str] | None = None  # (tr, en)


def load_trust_roots(directory: Path) -> list[asn1_x509.Certificate]:
    """Every certificate in the directory's .pem/.crt/.cer/.der files (PEM may hold many)."""
    roots: list[asn1_x509.Certificate] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
            continue
        data = path.read_bytes()
        if pem.detect(data):
            roots += [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, True)]
        else:
            roots.append(asn1_x509.Certificate.load(data))
    return roots


def _signer_name(status: SignatureStatus) -> str:
    subject = status.signing_cert.subject.native
    return str(subject.get("common_name") or status.signing_cert.subject.human_friendly)


def _integrity_problem(status: PdfSignatureStatus, newest: bool) -> tuple[str, str] | None:
    if not status.intact:
        return (
            "belge imzalandıktan sonra değiştirilmiş",
            "the document was changed after it was signed",
        )
    if not status.valid:
        return ("imza sertifikasıyla uyuşmuyor", "the signature does not match its certificate")
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return None
    allowed = _MAINTENANCE if newest else _LATER_SIGNING
    if (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in allowed
        and status.docmdp_ok is not False
    ):
        return None
    return (
        "imzadan sonra belgeye içerik eklenmiş",
        "content was added to the document after it was signed",
    )


def _signed_end(signature: EmbeddedPdfSignature) -> int:
    """Where the bytes a signature covers end (its /ByteRange is [0, a, b, c])."""
    _, _, offset, length = (int(value) for value in signature.byte_range)
    return offset + length


async def _examine(
    data: bytes, roots: list[asn1_x509.Certificate] | None, issued_length: int = 0
) -> _Outcome:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
    except Exception as error:  # hostile input: any parser failure is "not a PDF we can read"
        log.info("unreadable PDF: %s: %s", type(error).__name__, error)
        return _Outcome(problem=("PDF okunamadı", "the PDF cannot be read"))
    if not signatures:
        return _Outcome(missing=True)
    context = ValidationContext(trust_roots=roots or [], allow_fetching=False)
    signers: list[str] = []
    untrusted: list[str] = []
    for index, signature in enumerate(signatures):
        try:
            status = await async_validate_pdf_signature(signature, context)
        except Exception as error:  # a malformed signature dictionary or CMS blob
            log.info("signature %s not checkable: %s: %s", index, type(error).__name__, error)
            return _Outcome(problem=("imza okunamadı", "the signature cannot be read"))
        name = _signer_name(status)
        ours = _signed_end(signature) <= issued_length
        if not ours:
            signers.append(name)
        problem = _integrity_problem(status, newest=index == len(signatures) - 1)
        if problem is not None:
            return _Outcome(signers=tuple(signers), problem=problem)
        if roots is not None and not status.trusted and not ours:
            untrusted.append(name)
    if not signers:
        return _Outcome(missing=True)  # only the Kurum's signature: the firm did not sign
    return _Outcome(signers=tuple(signers), untrusted=tuple(untrusted))


def _examine_in_thread(
    data: bytes, roots: list[asn1_x509.Certificate] | None, issued_length: int
) -> _Outcome:
    _integrity_only.set(roots is None)  # this thread's context, copied into its loop
    return asyncio.run(_examine(data, roots, issued_length))


async def verify_signed_pdf(
    data: bytes, issued: bytes, what_tr: str, what_en: str, field: str = "file"
) -> SignatureCheck:
    """Check an uploaded e-signed PDF against the document we issued (`issued`'s bytes)."""
    if not data.startswith(b"%PDF-"):
        raise invalid(field, "dosya PDF değil", "the file is not a PDF")
    directory = get_settings().signature_trust_roots
    roots = await asyncio.to_thread(load_trust_roots, directory) if directory else None
    if roots is not None and not roots:
        log.error("no certificates in the trust roots directory %s: nothing is trusted", directory)
    issued_length = len(issued) if data.startswith(issued) else 0
    outcome = await asyncio.to_thread(_examine_in_thread, data, roots, issued_length)
    if outcome.missing:
        raise DomainError(ErrorCode.SIGNATURE_MISSING, field=field)
    if outcome.problem is not None:
        raise DomainError(
            ErrorCode.SIGNATURE_INVALID, field=field, reason=Bilingual(*outcome.problem)
        )
    if not data.startswith(issued):
        raise DomainError(
            ErrorCode.DOCUMENT_MISMATCH, field=field, what=Bilingual(what_tr, what_en)
        )
    if outcome.untrusted:
        raise DomainError(
            ErrorCode.SIGNATURE_UNTRUSTED, field=field, signer=", ".join(outcome.untrusted)
        )
    if roots is None:
        log.warning(
            "e-signature of %s accepted on integrity only: %s (set MCKS_SIGNATURE_TRUST_ROOTS)",
            ", ".join(outcome.signers),
            TRUST_NOT_VERIFIED,
        )
    return SignatureCheck(signers=outcome.signers, trusted=None if roots is None else True)
