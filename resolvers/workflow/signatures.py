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
   soft-fail) (else SIGNATURE_UNTRUSTED). Without it (development, tests, or production
   with `MCKS_SIGNATURE_INTEGRITY_ONLY` set explicitly), `trusted` is None and the caller
   records "trust not verified" in the audit trail.
5. The firm's own signer (Tebliğ art. 8(1)): every certificate the firm signed with belongs
   to a signer staff registered for that firm (`resolvers.accounts.signers`), else
   SIGNER_OF_ANOTHER_FIRM / SIGNER_NOT_REGISTERED.

Signatures already in the issued document (the Kurum's own, on what it signs) are checked
for integrity like any, but steps 4–5 are about the firm's: those added after it.

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

from models.signers import FirmSigner
from resolvers.accounts.signers import require_registered
from resolvers.errors import Bilingual, DomainError, ErrorCode, invalid
from resolvers.settings import CERTIFICATE_SUFFIXES, get_settings

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
# Changes a signing tool may append after the newest signature without touching content.
_MAINTENANCE = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# What may follow an older signature: more signing (new signature fields filled in).
_LATER_SIGNING = (*_MAINTENANCE, ModificationLevel.FORM_FILLING)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    signers: tuple[str, ...]  # the common names of the firm's signing certificates
    trusted: bool | None  # None: no trust roots configured, only integrity was checked
    registered: FirmSigner  # the firm's registered signer of the newest signature

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
    certificates: tuple[bytes, ...] = ()  # DER, of the firm's signatures
    untrusted: tuple[str, ...] = ()
    missing: bool = False
    problem: tuple[str, str] | None = None  # (tr, en)


def load_trust_roots(directory: Path) -> list[asn1_x509.Certificate]:
    """Every certificate in the directory's .pem/.crt/.cer/.der files (PEM may hold many)."""
    roots: list[asn1_x509.Certificate] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in CERTIFICATE_SUFFIXES or not path.is_file():
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


def _in_issued(signature: EmbeddedPdfSignature, issued_length: int) -> bool:
    """Whether the signature was already in the issued document: it covers no byte after."""
    byte_range = [int(value) for value in signature.byte_range]
    return byte_range[2] + byte_range[3] <= issued_length


async def _examine(
    data: bytes, issued_length: int, roots: list[asn1_x509.Certificate] | None
) -> _Outcome:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
    except Exception as error:  # hostile input: any parser failure is "not a PDF we can read"
        log.info("unreadable PDF: %s: %s", type(error).__name__, error)
        return _Outcome(problem=("PDF okunamadı", "the PDF cannot be read"))
    try:
        firms = [s for s in signatures if not _in_issued(s, issued_length)]
    except (TypeError, ValueError, IndexError):  # a /ByteRange that is no four numbers
        return _Outcome(problem=("imza okunamadı", "the signature cannot be read"))
    if not firms:
        return _Outcome(missing=True)
    context = ValidationContext(trust_roots=roots or [], allow_fetching=False)
    signers: list[str] = []
    certificates: list[bytes] = []
    untrusted: list[str] = []
    for index, signature in enumerate(signatures):
        try:
            status = await async_validate_pdf_signature(signature, context)
        except Exception as error:  # a malformed signature dictionary or CMS blob
            log.info("signature %s not checkable: %s: %s", index, type(error).__name__, error)
            return _Outcome(problem=("imza okunamadı", "the signature cannot be read"))
        problem = _integrity_problem(status, newest=index == len(signatures) - 1)
        if problem is not None:
            return _Outcome(signers=tuple(signers), problem=problem)
        if signature not in firms:
            continue
        name = _signer_name(status)
        signers.append(name)
        certificates.append(status.signing_cert.dump())
        if roots is not None and not status.trusted:
            untrusted.append(name)
    return _Outcome(
        signers=tuple(signers), certificates=tuple(certificates), untrusted=tuple(untrusted)
    )


def _examine_in_thread(
    data: bytes, issued_length: int, roots: list[asn1_x509.Certificate] | None
) -> _Outcome:
    _integrity_only.set(roots is None)  # this thread's context, copied into its loop
    return asyncio.run(_examine(data, issued_length, roots))


async def verify_signed_pdf(
    data: bytes, issued: bytes, what_tr: str, what_en: str, *, firm_id: int, field: str = "file"
) -> SignatureCheck:
    """Check an uploaded e-signed PDF against the document we issued (`issued`'s bytes), and
    that the firm `firm_id`'s registered signers signed it."""
    if not data.startswith(b"%PDF-"):
        raise invalid(field, "dosya PDF değil", "the file is not a PDF")
    directory = get_settings().signature_trust_roots
    roots = await asyncio.to_thread(load_trust_roots, directory) if directory else None
    if roots is not None and not roots:
        log.error("no certificates in the trust roots directory %s: nothing is trusted", directory)
    # A PDF that is not ours signed has no signature of ours in it: all are the firm's (and
    # DOCUMENT_MISMATCH follows once they are intact).
    issued_length = len(issued) if data.startswith(issued) else 0
    outcome = await asyncio.to_thread(_examine_in_thread, data, issued_length, roots)
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
    registered = await require_registered(firm_id, outcome.certificates)
    if roots is None:
        log.warning(
            "e-signature of %s accepted on integrity only: %s (set MCKS_SIGNATURE_TRUST_ROOTS)",
            ", ".join(outcome.signers),
            TRUST_NOT_VERIFIED,
        )
    return SignatureCheck(
        signers=outcome.signers, trusted=None if roots is None else True, registered=registered
    )
