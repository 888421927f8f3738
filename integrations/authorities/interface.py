"""What we ask the verification authorities and what they answer (art. 5 of the Tebliğ).

Declarations not verified through e-Devlet are sent periodically, in batches, to the
authorities (*ilgili merciler*): customs, the police entry/exit records and the population
registry. Each one sits behind the `Authority` interface; `http_client.HttpAuthority` talks to
the real service, `simulator` plays all three for tests and the demo.

Failures are typed so the job layer can decide without parsing messages: every
`AuthorityError` says whether retrying can help (`retryable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

# One request carries at most this many declarations; the job layer splits bigger batches.
# Keeps a single slow or failing request from holding up a whole day's declarations.
MAX_BATCH_SIZE = 500


class AuthorityKind(StrEnum):
    CUSTOMS = "CUSTOMS"
    BORDER_RECORDS = "BORDER_RECORDS"
    POPULATION_REGISTRY = "POPULATION_REGISTRY"

    @property
    def label_tr(self) -> str:
        return _KIND_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _KIND_LABELS[self][1]


_KIND_LABELS: dict[AuthorityKind, tuple[str, str]] = {
    AuthorityKind.CUSTOMS: ("Gümrük idaresi", "Customs"),
    AuthorityKind.BORDER_RECORDS: (
        "Giriş-çıkış kayıtları (Emniyet)",
        "Entry/exit records (police)",
    ),
    AuthorityKind.POPULATION_REGISTRY: ("Nüfus kayıtları", "Population registry"),
}


def _require_text(value: str, what: str) -> None:
    if not value or value != value.strip():
        raise ValueError(f"{what} must be non-empty text without surrounding spaces")


def _require_country(value: str, what: str) -> None:
    # ISO 3166-1 alpha-2 shape only; the list of countries belongs to the caller's validation.
    if not (len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError(f"{what} must be an ISO 3166-1 alpha-2 code such as 'DE', got {value!r}")


@dataclass(frozen=True, slots=True)
class NationalId:
    """A citizen, identified by the national identity number."""

    number: str

    def __post_init__(self) -> None:
        _require_text(self.number, "national id number")


@dataclass(frozen=True, slots=True)
class Passport:
    """A foreigner (or a citizen travelling on a passport), identified by passport and country."""

    number: str
    nationality: str  # ISO 3166-1 alpha-2 of the issuing country

    def __post_init__(self) -> None:
        _require_text(self.number, "passport number")
        _require_country(self.nationality, "nationality")


Identity = NationalId | Passport


@dataclass(frozen=True, slots=True)
class Applicant:
    identity: Identity
    full_name: str
    birth_date: date

    def __post_init__(self) -> None:
        _require_text(self.full_name, "full name")


@dataclass(frozen=True, slots=True)
class Device:
    imeis: tuple[str, ...]  # all IMEIs of the one device (one per SIM slot)
    brand: str
    model: str

    def __post_init__(self) -> None:
        # IMEI syntax and Luhn are checked by the registration's technical checks, not here.
        if not self.imeis:
            raise ValueError("a device has at least one IMEI")
        if len(set(self.imeis)) != len(self.imeis):
            raise ValueError("a device lists each IMEI once")
        _require_text(self.brand, "brand")
        _require_text(self.model, "model")


@dataclass(frozen=True, slots=True)
class Declaration:
    """One individual's declaration, as sent to an authority for verification."""

    reference: str  # ours, stable across retries; answers are keyed by it
    applicant: Applicant
    device: Device
    entry_date: date  # when the applicant entered the country with the device
    customs_declaration_no: str | None = None
    purchase_country: str | None = None  # ISO 3166-1 alpha-2

    def __post_init__(self) -> None:
        _require_text(self.reference, "reference")
        if self.customs_declaration_no is not None:
            _require_text(self.customs_declaration_no, "customs declaration number")
        if self.purchase_country is not None:
            _require_country(self.purchase_country, "purchase country")


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT_VERIFIED"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an authority did not verify: a code to switch on, and words for people."""

    code: str
    message_tr: str
    message_en: str
    authority_note: str | None = None  # the authority's own words, kept verbatim for staff


@dataclass(frozen=True, slots=True)
class Answer:
    reference: str
    verdict: Verdict
    reason: Reason | None = None

    def __post_init__(self) -> None:
        if (self.verdict is Verdict.NOT_VERIFIED) != (self.reason is not None):
            raise ValueError("a reason comes with NOT_VERIFIED and only with it")

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED


class AuthorityError(Exception):
    """The authority gave no usable answer for the batch; no declaration was decided."""

    retryable: bool = True

    def __init__(
        self,
        kind: AuthorityKind,
        message: str,
        *,
        status_code: int | None = None,
        retry_after_seconds: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds  # the authority's hint, when it gave one
        self.request_id = request_id  # the X-Request-Id we sent, to find the call in its logs

    def __str__(self) -> str:
        status = f" (HTTP {self.status_code})" if self.status_code is not None else ""
        return f"{self.kind.value}: {self.message}{status}"


class AuthorityTimeout(AuthorityError):
    """No answer within the deadline; the authority may still be working on it."""


class AuthorityUnavailable(AuthorityError):
    """5xx, 429, connection refused or dropped: the service is down or overloaded."""


class AuthorityBadAnswer(AuthorityError):
    """An answer we cannot trust: not JSON, wrong shape, references missing, extra or twice."""


class AuthorityRequestRejected(AuthorityError):
    """A 4xx other than 429: our request is wrong (bad key, bad payload). Retrying the same
    request cannot help; a person has to fix configuration or code."""

    retryable = False


class Authority(Protocol):
    """One verification authority.

    `verify_batch` answers every declaration of the batch, keyed by reference, or raises an
    `AuthorityError` and answers none: a batch is never half-decided.
    """

    @property
    def kind(self) -> AuthorityKind: ...

    async def verify_batch(self, declarations: Sequence[Declaration]) -> dict[str, Answer]: ...

    async def aclose(self) -> None: ...
