"""One IMEI's history for staff: every event about it, in time order, from the records each
flow keeps — the whitelist's change log (entries, status changes, removals, restores), held
mainboard/swap IMEIs, the blacklist's change log (reports and their lifting), pairing
requests and the pairing change log, clone suspicions (from their audit trail, which keeps
every opening and dismissal), and the network's first attach.

Each event says what happened (`kind`), who did it, where it came from (`source`: the
application, registration, replacement, correction or report, with its id when known) and
why. Reads only; one query per record kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.after import CorrectionPair, PairingChange, PairingFlag, Replacement
from models.audit import AuditEvent
from models.grace import FirstAttach as FirstAttachRecord
from models.individuals import WhitelistRemoval
from models.labels import label, register
from models.network import CloneSuspicion
from models.progress import HeldImei
from models.registry import (
    BlacklistChange,
    BlacklistEntry,
    ChangeOp,
    WhitelistChange,
    WhitelistEntry,
    WhitelistSource,
)
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.operators.blacklist import parse_imei


class HistoryKind(StrEnum):
    WHITELISTED = "WHITELISTED"
    STATUS_CHANGED = "STATUS_CHANGED"
    REMOVED = "REMOVED"
    RESTORED = "RESTORED"
    HELD = "HELD"
    BLACKLISTED = "BLACKLISTED"
    BLACKLIST_LIFTED = "BLACKLIST_LIFTED"
    PAIRING_REQUESTED = "PAIRING_REQUESTED"
    PAIRED = "PAIRED"
    PAIRING_CHANGED = "PAIRING_CHANGED"
    UNPAIRED = "UNPAIRED"
    CLONE_SUSPECTED = "CLONE_SUSPECTED"
    CLONE_DISMISSED = "CLONE_DISMISSED"
    FIRST_ATTACH = "FIRST_ATTACH"


class HistorySource(StrEnum):
    APPLICATION = "APPLICATION"
    REGISTRATION = "REGISTRATION"
    REPLACEMENT = "REPLACEMENT"
    CORRECTION = "CORRECTION"
    REPORT = "REPORT"
    PAIRING = "PAIRING"
    NETWORK = "NETWORK"
    STAFF = "STAFF"


register(
    HistoryKind,
    {
        "WHITELISTED": ("Beyaz listeye alındı", "Whitelisted"),
        "STATUS_CHANGED": ("Beyaz liste durumu değişti", "Whitelist status changed"),
        "REMOVED": ("Beyaz listeden çıkarıldı", "Removed from the whitelist"),
        "RESTORED": ("Beyaz listeye geri alındı", "Restored to the whitelist"),
        "HELD": ("Anakart/takas bildirimi bekliyor", "Held for a replacement report"),
        "BLACKLISTED": ("Kara listeye alındı", "Blacklisted"),
        "BLACKLIST_LIFTED": ("Kara listeden çıkarıldı", "Blacklisting lifted"),
        "PAIRING_REQUESTED": ("Eşleştirme istendi", "Pairing requested"),
        "PAIRED": ("Numarayla eşleştirildi", "Paired with a number"),
        "PAIRING_CHANGED": ("Eşleştirilen numara değişti", "Paired number changed"),
        "UNPAIRED": ("Eşleştirme kaldırıldı", "Pairing removed"),
        "CLONE_SUSPECTED": ("Klon şüphesi", "Suspected clone"),
        "CLONE_DISMISSED": ("Klon şüphesi kapatıldı", "Clone suspicion dismissed"),
        "FIRST_ATTACH": ("Şebekede ilk görülme", "First network attach"),
    },
)
register(
    HistorySource,
    {
        "APPLICATION": ("Firma başvurusu", "Firm application"),
        "REGISTRATION": ("Bireysel kayıt", "Individual registration"),
        "REPLACEMENT": ("Anakart/takas bildirimi", "Replacement report"),
        "CORRECTION": ("IMEI düzeltme", "IMEI correction"),
        "REPORT": ("Kayıp/çalıntı bildirimi", "Lost/stolen report"),
        "PAIRING": ("Eşleştirme", "Pairing"),
        "NETWORK": ("Şebeke", "Network"),
        "STAFF": ("Kurum personeli", "Staff"),
    },
)

_FROM_WHITELIST_SOURCE = {
    WhitelistSource.FIRM_APPLICATION.value: HistorySource.APPLICATION,
    WhitelistSource.AKM.value: HistorySource.REGISTRATION,
    WhitelistSource.E_DEVLET.value: HistorySource.REGISTRATION,
    WhitelistSource.CORRECTION.value: HistorySource.CORRECTION,
    WhitelistSource.REPLACEMENT.value: HistorySource.REPLACEMENT,
    WhitelistSource.STAFF.value: HistorySource.STAFF,
}
# The verification of declarations removes as this actor (resolvers.individuals).
_VERIFIER = "verification"


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    at: datetime
    kind: HistoryKind
    actor: str
    source: HistorySource | None = None
    source_id: int | None = None
    reason: str = ""
    detail: str = ""  # e.g. the whitelist status, brand/model, the reference, the number

    def kind_label(self, lang: str) -> str:
        return label(self.kind, lang)

    def source_label(self, lang: str) -> str | None:
        return label(self.source, lang) if self.source else None


@dataclass(frozen=True, slots=True)
class FirstAttach:
    at: datetime
    operator: str  # "" when the record does not say


async def first_attach(imei: str) -> FirstAttach | None:
    """When the network first saw the IMEI (the start of its grace clock), and by which
    operator: the one place this history reads it from."""
    record = await FirstAttachRecord.get_or_none(imei=imei)
    return FirstAttach(record.attached_at, record.operator_code) if record else None


async def imei_history(actor: Actor, raw_imei: str) -> list[HistoryEvent]:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    imei = parse_imei(raw_imei)
    events: list[HistoryEvent] = []
    events += await _whitelist(imei)
    events += await _held(imei)
    events += await _blacklist(imei)
    events += await _pairing(imei)
    events += await _clone(imei)
    attach = await first_attach(imei)
    if attach is not None:
        events.append(
            HistoryEvent(
                attach.at,
                HistoryKind.FIRST_ATTACH,
                attach.operator,
                HistorySource.NETWORK,
                detail=attach.operator,
            )
        )
    # Stable: events of one moment keep the order their records were read in.
    return sorted(events, key=lambda event: event.at)


# --- the whitelist -------------------------------------------------------------------------


async def _whitelist(imei: str) -> list[HistoryEvent]:
    changes = await WhitelistChange.filter(imei=imei).order_by("id")
    removals = {r.change_id: r for r in await WhitelistRemoval.filter(imei=imei)}
    entry = await WhitelistEntry.get_or_none(imei=imei)
    replaced = await Replacement.filter(old_imei=imei).first()
    replacing = await Replacement.filter(new_imei=imei).first()
    corrected = await CorrectionPair.filter(wrong_imei=imei).first()
    correcting = await CorrectionPair.filter(right_imei=imei).first()

    # Which record an ADD belongs to: the next removal record keeps the entry as it was;
    # the last ADD is the entry on the list now.
    owners: dict[int, tuple[int | None, int | None]] = {}
    pending: list[int] = []
    for change in changes:
        if change.op == ChangeOp.ADD:
            pending.append(change.id)
        elif change.op == ChangeOp.REMOVE:
            removal = removals.get(change.id)
            if removal is not None:
                for add_id in pending:
                    owners[add_id] = (removal.application_id, removal.registration_id)
            pending = []
    if entry is not None:
        for add_id in pending:
            owners[add_id] = (entry.application_id, entry.registration_id)

    events: list[HistoryEvent] = []
    last_removal: WhitelistRemoval | None = None
    for change in changes:
        detail = f"{change.status} · {change.brand} {change.model_code}".strip()
        if change.op == ChangeOp.ADD:
            if last_removal is not None and last_removal.restored_at is not None:
                events.append(
                    HistoryEvent(
                        change.at,
                        HistoryKind.RESTORED,
                        change.actor_name,
                        HistorySource.STAFF,
                        reason=change.reason,
                        detail=detail,
                    )
                )
                last_removal = None
                continue
            source = _FROM_WHITELIST_SOURCE.get(change.source, HistorySource.STAFF)
            application_id, registration_id = owners.get(change.id, (None, None))
            source_id = {
                HistorySource.APPLICATION: application_id,
                HistorySource.REGISTRATION: registration_id,
                HistorySource.REPLACEMENT: replacing.report_id if replacing else None,
                HistorySource.CORRECTION: correcting.request_id if correcting else None,
            }.get(source)
            events.append(
                HistoryEvent(
                    change.at,
                    HistoryKind.WHITELISTED,
                    change.actor_name,
                    source,
                    source_id,
                    change.reason,
                    detail,
                )
            )
        elif change.op == ChangeOp.UPDATE:
            events.append(
                HistoryEvent(
                    change.at,
                    HistoryKind.STATUS_CHANGED,
                    change.actor_name,
                    _FROM_WHITELIST_SOURCE.get(change.source, HistorySource.STAFF),
                    reason=change.reason,
                    detail=change.status,
                )
            )
        else:
            removal = removals.get(change.id)
            last_removal = removal
            source, source_id = _removed_by(change, removal, replaced, corrected)
            events.append(
                HistoryEvent(
                    change.at,
                    HistoryKind.REMOVED,
                    change.actor_name,
                    source,
                    source_id,
                    change.reason,
                    detail,
                )
            )
    if entry is not None and not any(c.op == ChangeOp.ADD for c in changes):
        # Listed before the change log kept it (e.g. loaded data): the original entry.
        source = _FROM_WHITELIST_SOURCE.get(entry.source.value, HistorySource.STAFF)
        events.append(
            HistoryEvent(
                entry.registered_at,
                HistoryKind.WHITELISTED,
                "",
                source,
                entry.application_id or entry.registration_id,
                detail=f"{entry.status.value} · {entry.brand} {entry.model_code}",
            )
        )
    return events


def _removed_by(
    change: WhitelistChange,
    removal: WhitelistRemoval | None,
    replaced: Replacement | None,
    corrected: CorrectionPair | None,
) -> tuple[HistorySource, int | None]:
    if removal is not None:
        if removal.removed_by == _VERIFIER:  # an authority refused the declaration
            return HistorySource.REGISTRATION, removal.registration_id
        return HistorySource.STAFF, None
    if replaced is not None:
        return HistorySource.REPLACEMENT, replaced.report_id
    if corrected is not None:
        return HistorySource.CORRECTION, corrected.request_id
    return HistorySource.STAFF, None


async def _held(imei: str) -> list[HistoryEvent]:
    held = [
        (h.held_at, h.application_id, h.kind.value) for h in await HeldImei.filter(imei=imei)
    ] + [
        (r.held_at, r.new_application_id, r.kind.value)
        for r in await Replacement.filter(new_imei=imei)
    ]
    return [
        HistoryEvent(at, HistoryKind.HELD, "", HistorySource.APPLICATION, application_id, "", kind)
        for at, application_id, kind in held
    ]


# --- the blacklist, pairing, clones --------------------------------------------------------


async def _blacklist(imei: str) -> list[HistoryEvent]:
    current = await BlacklistEntry.get_or_none(imei=imei)
    changes = await BlacklistChange.filter(imei=imei).order_by("id")
    # The report on the list now is the latest ADD: show its registry number with it.
    latest_add = max((c.id for c in changes if c.op == ChangeOp.ADD), default=None)
    events = []
    for change in changes:
        added = change.op == ChangeOp.ADD
        detail = change.reference
        if change.id == latest_add and current is not None and current.report_number:
            detail = f"{change.reference} · {current.report_number}"
        events.append(
            HistoryEvent(
                change.at,
                HistoryKind.BLACKLISTED if added else HistoryKind.BLACKLIST_LIFTED,
                change.actor_name,
                HistorySource.REPORT,
                reason=" — ".join(p for p in (change.reason, change.note) if p),
                detail=detail,
            )
        )
    return events


async def _pairing(imei: str) -> list[HistoryEvent]:
    events = [
        HistoryEvent(
            flag.flagged_at,
            HistoryKind.PAIRING_REQUESTED,
            flag.flagged_by,
            HistorySource.PAIRING,
            reason=flag.reason,
        )
        for flag in await PairingFlag.filter(imei=imei).order_by("id")
    ]
    kinds = {
        ChangeOp.ADD: HistoryKind.PAIRED,
        ChangeOp.UPDATE: HistoryKind.PAIRING_CHANGED,
        ChangeOp.REMOVE: HistoryKind.UNPAIRED,
    }
    events += [
        HistoryEvent(
            change.at,
            kinds[change.op],
            change.actor_name,
            HistorySource.PAIRING,
            reason=change.reason,
            detail=change.msisdn,
        )
        for change in await PairingChange.filter(imei=imei).order_by("id")
    ]
    return events


async def _clone(imei: str) -> list[HistoryEvent]:
    suspicion = await CloneSuspicion.get_or_none(imei=imei)
    if suspicion is None:
        return []
    # The suspicion row keeps only its latest state; its audit trail keeps every opening.
    trail = await AuditEvent.filter(
        subject_type="CloneSuspicion",
        subject_id=str(suspicion.id),
        action__in=["clone.suspected", "clone.dismissed"],
    ).order_by("id")
    return [
        HistoryEvent(
            event.at,
            HistoryKind.CLONE_SUSPECTED
            if event.action == "clone.suspected"
            else HistoryKind.CLONE_DISMISSED,
            event.actor_name,
            HistorySource.NETWORK if event.action == "clone.suspected" else HistorySource.STAFF,
            reason=str(event.details.get("reason", "")),
            detail=f"{event.details['imsiCount']} abone" if "imsiCount" in event.details else "",
        )
        for event in trail
    ]
