"""Verification authorities (customs, entry/exit records, population registry), art. 5.

Import from here; the simulator is imported explicitly
(`from integrations.authorities.simulator import serve_simulator`) so production code does
not load it.
"""

from integrations.authorities.http_client import HttpAuthority
from integrations.authorities.interface import (
    MAX_BATCH_SIZE,
    Answer,
    Applicant,
    Authority,
    AuthorityBadAnswer,
    AuthorityError,
    AuthorityKind,
    AuthorityRequestRejected,
    AuthorityTimeout,
    AuthorityUnavailable,
    Declaration,
    Device,
    Identity,
    NationalId,
    Passport,
    Reason,
    Verdict,
)
from integrations.authorities.outcome import (
    Outcome,
    OutcomeStatus,
    applicable_authorities,
    combine_answers,
)
from integrations.authorities.reasons import ReasonCode, reason_for

__all__ = [
    "MAX_BATCH_SIZE",
    "Answer",
    "Applicant",
    "Authority",
    "AuthorityBadAnswer",
    "AuthorityError",
    "AuthorityKind",
    "AuthorityRequestRejected",
    "AuthorityTimeout",
    "AuthorityUnavailable",
    "Declaration",
    "Device",
    "HttpAuthority",
    "Identity",
    "NationalId",
    "Outcome",
    "OutcomeStatus",
    "Passport",
    "Reason",
    "ReasonCode",
    "Verdict",
    "applicable_authorities",
    "combine_answers",
    "reason_for",
]
