"""Which authorities must verify a declaration, and what their answers add up to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from integrations.authorities.interface import (
    Answer,
    AuthorityKind,
    Declaration,
    NationalId,
    Reason,
)


def applicable_authorities(declaration: Declaration) -> frozenset[AuthorityKind]:
    """The authorities that must verify `declaration`; this is the one place the rule lives.

    - CUSTOMS, only when the declaration gives a customs declaration number: without one there
      is nothing customs can look up (a phone carried in personal luggage).
    - BORDER_RECORDS, always: the entry/exit records show the applicant entered the country,
      on the declared date, which is what an individual registration rests on.
    - POPULATION_REGISTRY, only for applicants identified by a national id number (citizens):
      the registry has no record of someone known only by a foreign passport.
    """
    kinds = {AuthorityKind.BORDER_RECORDS}
    if declaration.customs_declaration_no is not None:
        kinds.add(AuthorityKind.CUSTOMS)
    if isinstance(declaration.applicant.identity, NationalId):
        kinds.add(AuthorityKind.POPULATION_REGISTRY)
    return frozenset(kinds)


class OutcomeStatus(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT_VERIFIED"
    PENDING = "PENDING"  # no refusal yet, but some applicable authority has not answered


@dataclass(frozen=True, slots=True)
class Outcome:
    status: OutcomeStatus
    rejected_by: AuthorityKind | None = None
    reason: Reason | None = None
    awaiting: frozenset[AuthorityKind] = frozenset()


def combine_answers(declaration: Declaration, answers: Mapping[AuthorityKind, Answer]) -> Outcome:
    """One outcome for a declaration from the answers collected so far.

    Any applicable authority that did not verify decides at once: NOT_VERIFIED with its reason
    (if several refused, the first in `AuthorityKind` order, so the result is stable). All
    applicable authorities verified: VERIFIED. Otherwise PENDING, naming who is awaited.
    Answers from authorities that do not apply are ignored.
    """
    for kind, answer in answers.items():
        if answer.reference != declaration.reference:
            raise ValueError(
                f"{kind.value} answer for {answer.reference!r} given for {declaration.reference!r}"
            )
    applicable = applicable_authorities(declaration)
    for kind in AuthorityKind:
        answer_or_none = answers.get(kind)
        if kind in applicable and answer_or_none is not None and not answer_or_none.verified:
            return Outcome(
                OutcomeStatus.NOT_VERIFIED, rejected_by=kind, reason=answer_or_none.reason
            )
    awaiting = applicable - answers.keys()
    if awaiting:
        return Outcome(OutcomeStatus.PENDING, awaiting=frozenset(awaiting))
    return Outcome(OutcomeStatus.VERIFIED)
