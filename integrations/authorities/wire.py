"""JSON encoding of the verification protocol (described in `http_client`), both directions.

The client encodes requests and decodes answers; the simulator does the reverse. Decoding is
strict: anything off the protocol raises `WireError` naming where, so a garbage answer can
never be mistaken for a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from integrations.authorities.interface import (
    Answer,
    Applicant,
    AuthorityKind,
    Declaration,
    Device,
    NationalId,
    Passport,
    Verdict,
)
from integrations.authorities.reasons import reason_for

VERIFICATIONS_PATH = "/v1/verifications"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHOWN = 5  # references quoted in an error message; a batch can hold hundreds


class WireError(ValueError):
    """The JSON does not follow the protocol."""


def _some(references: Sequence[str] | set[str]) -> str:
    shown = sorted(references)[:_SHOWN]
    more = len(references) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


# --- requests -------------------------------------------------------------------------------


def declaration_to_json(declaration: Declaration) -> dict[str, Any]:
    applicant = declaration.applicant
    identity: dict[str, str]
    if isinstance(applicant.identity, NationalId):
        identity = {"nationalIdNumber": applicant.identity.number}
    else:
        identity = {
            "passportNumber": applicant.identity.number,
            "nationality": applicant.identity.nationality,
        }
    return {
        "reference": declaration.reference,
        "applicant": {
            **identity,
            "fullName": applicant.full_name,
            "birthDate": applicant.birth_date.isoformat(),
        },
        "device": {
            "imeis": list(declaration.device.imeis),
            "brand": declaration.device.brand,
            "model": declaration.device.model,
        },
        "entryDate": declaration.entry_date.isoformat(),
        "customsDeclarationNumber": declaration.customs_declaration_no,
        "purchaseCountry": declaration.purchase_country,
    }


def request_to_json(kind: AuthorityKind, declarations: Sequence[Declaration]) -> dict[str, Any]:
    return {
        "authority": kind.value,
        "declarations": [declaration_to_json(d) for d in declarations],
    }


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(f"{where}: expected an object")
    return value


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise WireError(f"{where}.{key}: expected non-empty text")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _text(obj, key, where)


def _date(obj: dict[str, Any], key: str, where: str) -> date:
    value = _text(obj, key, where)
    if not _ISO_DATE.fullmatch(value):
        raise WireError(f"{where}.{key}: expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise WireError(f"{where}.{key}: {exc}") from exc


def declaration_from_json(value: object, where: str = "declaration") -> Declaration:
    obj = _object(value, where)
    applicant_obj = _object(obj.get("applicant"), f"{where}.applicant")
    device_obj = _object(obj.get("device"), f"{where}.device")
    imeis = device_obj.get("imeis")
    if not isinstance(imeis, list) or not all(isinstance(i, str) for i in imeis):
        raise WireError(f"{where}.device.imeis: expected a list of text")
    identity: NationalId | Passport
    try:
        if "nationalIdNumber" in applicant_obj:
            if "passportNumber" in applicant_obj:
                raise WireError(f"{where}.applicant: national id or passport, not both")
            identity = NationalId(_text(applicant_obj, "nationalIdNumber", f"{where}.applicant"))
        else:
            identity = Passport(
                _text(applicant_obj, "passportNumber", f"{where}.applicant"),
                _text(applicant_obj, "nationality", f"{where}.applicant"),
            )
        return Declaration(
            reference=_text(obj, "reference", where),
            applicant=Applicant(
                identity=identity,
                full_name=_text(applicant_obj, "fullName", f"{where}.applicant"),
                birth_date=_date(applicant_obj, "birthDate", f"{where}.applicant"),
            ),
            device=Device(
                imeis=tuple(imeis),
                brand=_text(device_obj, "brand", f"{where}.device"),
                model=_text(device_obj, "model", f"{where}.device"),
            ),
            entry_date=_date(obj, "entryDate", where),
            customs_declaration_no=_optional_text(obj, "customsDeclarationNumber", where),
            purchase_country=_optional_text(obj, "purchaseCountry", where),
        )
    except WireError:
        raise
    except ValueError as exc:  # the dataclasses' own checks
        raise WireError(f"{where}: {exc}") from exc


def parse_request(payload: object) -> tuple[AuthorityKind, list[Declaration]]:
    obj = _object(payload, "request")
    authority = obj.get("authority")
    if not isinstance(authority, str) or authority not in AuthorityKind.__members__:
        raise WireError("request.authority: expected one of " + ", ".join(AuthorityKind))
    kind = AuthorityKind(authority)
    items = obj.get("declarations")
    if not isinstance(items, list) or not items:
        raise WireError("request.declarations: expected a non-empty list")
    declarations = [
        declaration_from_json(item, f"declarations[{i}]") for i, item in enumerate(items)
    ]
    references = [d.reference for d in declarations]
    if len(set(references)) != len(references):
        raise WireError("request.declarations: each reference must appear once")
    return kind, declarations


# --- answers --------------------------------------------------------------------------------


def answer_to_json(answer: Answer) -> dict[str, Any]:
    if answer.reason is None:
        return {"reference": answer.reference, "verified": True}
    return {
        "reference": answer.reference,
        "verified": False,
        "reasonCode": answer.reason.code,
        "reason": answer.reason.authority_note,
    }


def _result_from_json(value: object, where: str) -> Answer:
    obj = _object(value, where)
    reference = _text(obj, "reference", where)
    verified = obj.get("verified")
    if not isinstance(verified, bool):  # 1, "true" and null are not answers
        raise WireError(f"{where}.verified: expected true or false")
    if verified:
        if obj.get("reasonCode") is not None:
            raise WireError(f"{where}: verified, yet a reasonCode is given")
        return Answer(reference, Verdict.VERIFIED)
    code = _text(obj, "reasonCode", where)
    note = obj.get("reason")
    if note is not None and not isinstance(note, str):
        raise WireError(f"{where}.reason: expected text or null")
    return Answer(reference, Verdict.NOT_VERIFIED, reason_for(code, note or None))


def parse_results(payload: object, references: Sequence[str]) -> dict[str, Answer]:
    """The answers, keyed by reference, if and only if each asked reference is answered once."""
    obj = _object(payload, "answer")
    items = obj.get("results")
    if not isinstance(items, list):
        raise WireError("answer.results: expected a list")
    asked = set(references)
    answers: dict[str, Answer] = {}
    unknown: set[str] = set()
    twice: set[str] = set()
    for i, item in enumerate(items):
        answer = _result_from_json(item, f"results[{i}]")
        if answer.reference not in asked:
            unknown.add(answer.reference)
        elif answer.reference in answers:
            twice.add(answer.reference)
        answers[answer.reference] = answer
    if unknown:
        raise WireError(f"answers for references not asked: {_some(unknown)}")
    if twice:
        raise WireError(f"references answered more than once: {_some(twice)}")
    missing = asked - answers.keys()
    if missing:
        raise WireError(f"{len(missing)} of {len(asked)} references not answered: {_some(missing)}")
    return answers
