"""A stored registration as the authorities are asked about it."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.authorities import Applicant, Declaration, Device, NationalId, Passport
from models.individuals import IdentityKind, Registration


def declaration_of(registration: Registration, imeis: Sequence[str]) -> Declaration:
    """The declaration of `registration` for the IMEIs it put on the whitelist. Its reference
    is ours (`IND-<id>`), the same on every send, so an authority can answer a re-sent batch
    by reference without deciding anything twice."""
    identity: NationalId | Passport
    if registration.identity_kind == IdentityKind.NATIONAL_ID:
        identity = NationalId(registration.identity_number)
    else:
        identity = Passport(registration.identity_number, registration.nationality or "")
    return Declaration(
        reference=registration.reference,
        applicant=Applicant(identity, registration.full_name, registration.birth_date),
        device=Device(tuple(imeis), registration.brand, registration.model_code),
        entry_date=registration.entry_date,
        customs_declaration_no=registration.customs_declaration_no,
        purchase_country=registration.purchase_country,
    )
