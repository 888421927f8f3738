"""Removing whitelist entries with a reason, and restoring wrongly removed ones.

Two callers remove: staff (any entry, their reason) and the verification of declarations
(art. 5(4): the authority's refusal as the reason). Both keep a `WhitelistRemoval` with the
entry as it was and the id of the feed's REMOVE row, so a restore puts back exactly what was
removed. An IMEI removed by another flow (replacement, correction) has no such record; a
restore then rebuilds the entry from that REMOVE row of the feed (status, source, brand,
model; the firm and application ids are not in the feed).

Everything is written in one transaction with its audit event, and both directions reach
the operators' feed (REMOVE with the reason, ADD with the restore reason).
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from models import clock
from models.imei import clean_imei, is_valid_imei
from models.individuals import (
    Registration,
    RegistrationImei,
    RegistrationStatus,
    WhitelistRemoval,
)
from models.registry import (
    BlacklistEntry,
    ChangeOp,
    WhitelistChange,
    WhitelistEntry,
    WhitelistSource,
    WhitelistStatus,
)
from models.roles import Role
from resolvers import audit, bulk, events, registry_changes
from resolvers.actor import Actor
from resolvers.errors import (
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    invalid_state,
    not_found,
)
from resolvers.pagination import Page, paginate

EDITORS = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
READERS = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE, Role.STAFF_ADMIN})
MAX_REASON = 1000


def parse_imei(raw: str, field: str = "imei") -> str:
    cleaned = clean_imei(raw)
    if not (cleaned.ok and is_valid_imei(cleaned.text)):
        raise invalid(
            field,
            "IMEI 15 haneli olmalı ve kontrol hanesi doğru olmalı",
            "an IMEI has 15 digits and a correct check digit",
        )
    return cleaned.text


def _reason(text: str, field: str = "reason") -> str:
    text = " ".join(text.split())
    if not text or len(text) > MAX_REASON:
        raise invalid(
            field,
            f"gerekçe boş olamaz ve en fazla {MAX_REASON} karakter olabilir",
            f"the reason must not be empty and at most {MAX_REASON} characters",
        )
    return text


# --- shared by staff and verification ------------------------------------------------------


async def remove_entries(actor: Actor, entries: Sequence[WhitelistEntry], reason: str) -> None:
    """Take `entries` off the whitelist with `reason`, keeping each as it was. Call inside
    the transaction, with the whitelist's feed lock held and the entries read under it."""
    if not entries:
        return
    imeis = [entry.imei for entry in entries]
    await registry_changes.remove_from_whitelist(actor, imeis, reason)
    # The feed rows just written (ids are allocated under the lock we hold: the newest ones).
    change_ids: dict[str, int] = {}
    async for imei, change_id in bulk.select_in(
        "SELECT imei, MAX(id) FROM whitelist_change WHERE op = 'REMOVE' AND imei IN ({in_}) "
        "GROUP BY imei",
        imeis,
    ):
        change_ids[str(imei)] = int(change_id)
    now = clock.now()
    await WhitelistRemoval.bulk_create(
        [
            WhitelistRemoval(
                imei=entry.imei,
                change_id=change_ids[entry.imei],
                reason=reason,
                removed_by=actor.name,
                removed_at=now,
                status=entry.status.value,
                source=entry.source.value,
                brand=entry.brand,
                model_code=entry.model_code,
                firm_id=entry.firm_id,
                application_id=entry.application_id,
                registration_id=entry.registration_id,
            )
            for entry in entries
        ]
    )
    for registration_id in {e.registration_id for e in entries if e.registration_id is not None}:
        await RegistrationImei.filter(
            registration_id=registration_id,
            imei__in=[e.imei for e in entries if e.registration_id == registration_id],
        ).update(removal_reason=reason, removed_at=now)


# --- staff ---------------------------------------------------------------------------------


def _imei_and_reason(imei: str, reason: str) -> tuple[str, str]:
    problems = Problems()  # every input error at once, each with its field
    imei = problems.check(parse_imei, imei) or imei
    reason = problems.check(_reason, reason) or reason
    problems.raise_any()
    return imei, reason


async def remove_whitelist_entry(actor: Actor, imei: str, reason: str) -> WhitelistRemoval:
    """Staff take any entry off the whitelist with a reason operators see in their checks
    and in the feed."""
    if actor.role not in EDITORS:
        raise DomainError(ErrorCode.FORBIDDEN)
    imei, reason = _imei_and_reason(imei, reason)
    async with in_transaction() as connection:
        await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
        entry = await WhitelistEntry.get_or_none(imei=imei)
        if entry is None:
            raise not_found("Beyaz listedeki IMEI", "Whitelisted IMEI", field="imei")
        await remove_entries(actor, [entry], reason)
        removal = await WhitelistRemoval.filter(imei=imei).order_by("-id").first()
        assert removal is not None
        await audit.record(
            actor,
            "whitelist.removed",
            "WhitelistEntry",
            imei,
            {
                "reason": reason,
                "status": entry.status.value,
                "source": entry.source.value,
                "registrationId": entry.registration_id,
                "applicationId": entry.application_id,
            },
            firm_id=entry.firm_id,
        )
        if entry.registration_id is not None:
            await _tell_client(entry.registration_id, "REMOVED", reason)
    return removal


async def _tell_client(registration_id: int, outcome: str, reason: str) -> None:
    # The submitting client follows its registrations' outcomes (subscriptions).
    registration = await Registration.get_or_none(id=registration_id)
    if registration is not None:
        await events.registration_decided(registration.id, registration.client_id, outcome, reason)


async def restore_whitelist_entry(actor: Actor, imei: str, reason: str) -> WhitelistRemoval:
    """Staff put a wrongly removed IMEI back on the whitelist as it was. An IMEI of an
    individual registration gets the status its registration calls for now; restoring a
    rejected registration's IMEI overrules the rejection (the registration is REINSTATED)."""
    if actor.role not in EDITORS:
        raise DomainError(ErrorCode.FORBIDDEN)
    imei, reason = _imei_and_reason(imei, reason)
    now = clock.now()
    async with in_transaction() as connection:
        last_removal = (
            await WhitelistChange.filter(imei=imei, op=ChangeOp.REMOVE).order_by("-id").first()
        )
        if last_removal is None:
            if await WhitelistEntry.exists(imei=imei):
                raise already_exists("Beyaz listedeki IMEI", "Whitelisted IMEI", imei, field="imei")
            raise not_found("Beyaz listeden çıkarılmış IMEI", "Removed IMEI", field="imei")
        removal = await WhitelistRemoval.get_or_none(change_id=last_removal.id)
        registration = None
        if removal is not None and removal.registration_id is not None:
            # Registration before the whitelist lock: the order verification takes them in.
            registration = (
                await Registration.filter(id=removal.registration_id).select_for_update().first()
            )
        await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
        if await WhitelistEntry.exists(imei=imei):
            raise already_exists("Beyaz listedeki IMEI", "Whitelisted IMEI", imei, field="imei")
        if await BlacklistEntry.exists(imei=imei):
            raise invalid_state(
                "IMEI kara listede; önce kara listeden çıkarılmalı",
                "the IMEI is blacklisted; lift the blacklisting first",
            )
        if removal is None:
            # Removed by another flow: rebuild what the feed says the entry was.
            removal = await WhitelistRemoval.create(
                imei=imei,
                change_id=last_removal.id,
                reason=last_removal.reason,
                removed_by=last_removal.actor_name,
                removed_at=last_removal.at,
                status=last_removal.status or WhitelistStatus.REGISTERED.value,
                source=last_removal.source or WhitelistSource.STAFF.value,
                brand=last_removal.brand,
                model_code=last_removal.model_code,
            )
        status = WhitelistStatus(removal.status)
        details: dict[str, object] = {"reason": reason, "removalReason": removal.reason}
        if registration is not None:
            if registration.status == RegistrationStatus.REJECTED:
                registration.status = RegistrationStatus.REINSTATED
                registration.status_reason = reason
                registration.updated_at = now
                await registration.save(update_fields=["status", "status_reason", "updated_at"])
                details["registrationReinstated"] = registration.id
            status = WhitelistStatus.REGISTERED
            if registration.status == RegistrationStatus.PENDING_VERIFICATION:
                # Past its verification deadline it stays blocked (resolvers.individuals.deadline).
                overdue = registration.overdue_at is not None
                status = WhitelistStatus.OVERDUE if overdue else WhitelistStatus.PROVISIONAL
            await RegistrationImei.filter(registration_id=registration.id, imei=imei).update(
                removal_reason=None, removed_at=None
            )
        await registry_changes.add_to_whitelist(
            actor,
            [
                registry_changes.WhitelistAddition(
                    imei=imei,
                    brand=removal.brand,
                    model_code=removal.model_code,
                    source=WhitelistSource(removal.source),
                    status=status,
                    firm_id=removal.firm_id,
                    application_id=removal.application_id,
                    registration_id=removal.registration_id,
                )
            ],
            reason=reason,
        )
        removal.restored_at = now
        removal.restored_by = actor.name
        removal.restore_reason = reason
        await removal.save(update_fields=["restored_at", "restored_by", "restore_reason"])
        details["status"] = status.value
        await audit.record(
            actor, "whitelist.restored", "WhitelistEntry", imei, details, firm_id=removal.firm_id
        )
        if removal.registration_id is not None:
            await _tell_client(removal.registration_id, "RESTORED", reason)
    return removal


async def list_removals(
    actor: Actor, imei: str | None, first: int, after: str | None
) -> Page[WhitelistRemoval]:
    """Removals, newest first (staff): what was removed, why, by whom, and any restore."""
    if actor.role not in READERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    query = WhitelistRemoval.all()
    if imei:
        query = query.filter(imei=parse_imei(imei))
    return await paginate(query, first, after, count=True)
