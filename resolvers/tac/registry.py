"""The TAC registry's models: staff keep them, everyone who handles device lists reads them,
and the analysis asks which model each TAC belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.names import normalise_brand_model
from models.roles import FIRM_ROLES, STAFF_ROLES, Role
from models.tac import TacModel
from resolvers import audit, bulk
from resolvers.actor import Actor
from resolvers.errors import (
    Bilingual,
    DomainError,
    ErrorCode,
    already_exists,
    invalid,
    invalid_state,
    not_found,
)
from resolvers.pagination import Page, paginate
from resolvers.tac.fields import (
    TacModelData,
    ValueProblem,
    clean_tac,
    validate_changes,
    validate_model_data,
)

# Firms read the registry (their device lists are checked against it); machine clients don't.
READERS = frozenset({*STAFF_ROLES, *FIRM_ROLES, Role.SYSTEM})
EDITORS = frozenset({Role.STAFF_ADMIN, Role.STAFF_REVIEWER, Role.SYSTEM})
# A whole-registry import can retire thousands of models at once: administrators only.
IMPORTERS = frozenset({Role.STAFF_ADMIN, Role.SYSTEM})

LEGACY_TAC_LENGTH = 6


def require(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        raise DomainError(ErrorCode.FORBIDDEN)


async def lock_registry(conn: BaseDBAsyncClient) -> None:
    """Serialise registry writers for the rest of the transaction (readers go on).

    SQLite has one writer at a time anyway; PostgreSQL needs the table lock so that an
    import's read-compare-write is not interleaved with another import or a staff edit.
    """
    if bulk.is_postgres(conn):
        await conn.execute_script("LOCK TABLE tac_model IN SHARE ROW EXCLUSIVE MODE")


def _missing_model() -> DomainError:
    return not_found("TAC", "TAC", field="tac")


def _tac_or_none(tac: str) -> str | None:
    try:
        return clean_tac(tac)
    except ValueProblem:
        return None


def snapshot(model: TacModel) -> dict[str, object]:
    return {
        "tac": model.tac,
        "brand": model.brand,
        "modelCode": model.model_code,
        "marketingName": model.marketing_name,
        "deviceType": model.device_type,
        "imeiCount": model.imei_count,
        "isActive": model.is_active,
    }


# --- reading -----------------------------------------------------------------------------


async def get_tac_model(actor: Actor, tac: str) -> TacModel:
    require(actor, READERS)
    key = _tac_or_none(tac)
    model = await TacModel.get_or_none(tac=key) if key else None
    if model is None:
        raise _missing_model()
    return model


@dataclass(frozen=True)
class TacModelFilter:
    tac_prefix: str | None = None
    brand: str | None = None  # exact, after normalising (`samsung` finds `SAMSUNG`)
    model: str | None = None  # prefix, after normalising (`SM-G99` finds `SM-G991B`)
    active: bool | None = None


async def list_tac_models(
    actor: Actor, where: TacModelFilter, first: int = 50, after: str | None = None
) -> Page[TacModel]:
    require(actor, READERS)
    query = TacModel.all()
    if where.tac_prefix:
        prefix = where.tac_prefix.strip()
        if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 8):
            raise invalid(
                "filter.tacPrefix",
                "TAC başlangıcı en fazla 8 rakam olmalı",
                "the TAC prefix must be at most 8 digits",
            )
        query = query.filter(tac__startswith=prefix)
    if where.brand and where.brand.strip():
        query = query.filter(brand=normalise_brand_model(where.brand))
    if where.model and where.model.strip():
        query = query.filter(model_code__startswith=normalise_brand_model(where.model))
    if where.active is not None:
        query = query.filter(is_active=where.active)
    return await paginate(query, first, after, newest_first=False, count=True)


async def models_for_tacs(tacs: Iterable[str]) -> dict[str, TacModel]:
    """For each 8-digit TAC (an IMEI's first 8 digits), the ACTIVE registry model it belongs
    to: the model with exactly that TAC, else the legacy 6-digit TAC its first 6 digits are.
    TACs the registry does not know are absent from the answer.

    Two passes of chunked IN queries over the distinct TACs (both served by the unique index
    on `tac`), so a million-IMEI list costs a handful of queries, not one per IMEI.
    """
    wanted = sorted({tac for tac in tacs if tac})
    found: dict[str, TacModel] = {}
    for start in range(0, len(wanted), bulk.LOOKUP_CHUNK):
        chunk = wanted[start : start + bulk.LOOKUP_CHUNK]
        for model in await TacModel.filter(tac__in=chunk, is_active=True):
            found[model.tac] = model
    unresolved = [tac for tac in wanted if tac not in found and len(tac) > LEGACY_TAC_LENGTH]
    prefixes = sorted({tac[:LEGACY_TAC_LENGTH] for tac in unresolved})
    legacy: dict[str, TacModel] = {}
    for start in range(0, len(prefixes), bulk.LOOKUP_CHUNK):
        chunk = prefixes[start : start + bulk.LOOKUP_CHUNK]
        for model in await TacModel.filter(tac__in=chunk, is_active=True):
            legacy[model.tac] = model
    for tac in unresolved:
        prefix_model = legacy.get(tac[:LEGACY_TAC_LENGTH])
        if prefix_model is not None:
            found[tac] = prefix_model
    return found


# --- staff edits -------------------------------------------------------------------------


async def apply_model(data: TacModelData) -> tuple[TacModel, str]:
    """Insert the model, or bring an existing one (active or retired) to these values.
    Returns the model and what happened: created, updated, reactivated or unchanged.
    Call inside a transaction that holds `lock_registry`."""
    now = clock.now()
    model = await TacModel.filter(tac=data.tac).select_for_update().first()
    if model is None:
        model = await TacModel.create(
            tac=data.tac,
            brand=data.brand,
            model_code=data.model_code,
            marketing_name=data.marketing_name,
            device_type=data.device_type,
            imei_count=data.imei_count,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        return model, "created"
    before = snapshot(model)
    model.brand = data.brand
    model.model_code = data.model_code
    model.marketing_name = data.marketing_name
    model.device_type = data.device_type
    model.imei_count = data.imei_count
    outcome = "updated" if model.is_active else "reactivated"
    model.is_active = True
    if snapshot(model) == before:
        return model, "unchanged"
    model.updated_at = now
    await model.save()
    return model, outcome


async def create_tac_model(
    actor: Actor,
    tac: str,
    brand: str,
    model_code: str,
    imei_count: int,
    marketing_name: str = "",
    device_type: str = "",
) -> TacModel:
    require(actor, EDITORS)
    data = validate_model_data(tac, brand, model_code, marketing_name, device_type, imei_count)
    try:
        async with in_transaction() as conn:
            await lock_registry(conn)
            existing = await TacModel.get_or_none(tac=data.tac)
            if existing is not None:
                raise _exists(existing)
            model, _ = await apply_model(data)
            await audit.record(actor, "tac.created", "TacModel", model.tac, snapshot(model))
    except IntegrityError as exc:  # another writer added the same TAC meanwhile
        raise already_exists("TAC", "TAC", data.tac, field="tac") from exc
    return model


def _exists(model: TacModel) -> DomainError:
    if model.is_active:
        return already_exists("TAC", "TAC", model.tac, field="tac")
    return DomainError(
        ErrorCode.ALREADY_EXISTS,
        field="tac",
        what=Bilingual(
            "TAC (kullanımdan kaldırılmış; yeniden etkinleştirebilirsiniz)",
            "TAC (retired; it can be reactivated)",
        ),
        value=model.tac,
    )


async def update_tac_model(
    actor: Actor,
    tac: str,
    brand: str | None = None,
    model_code: str | None = None,
    marketing_name: str | None = None,
    device_type: str | None = None,
    imei_count: int | None = None,
) -> TacModel:
    """Correct a model's data; the TAC itself is its identity and never changes."""
    require(actor, EDITORS)
    changes = validate_changes(brand, model_code, marketing_name, device_type, imei_count)
    key = _tac_or_none(tac)
    async with in_transaction() as conn:
        await lock_registry(conn)
        model = await TacModel.filter(tac=key).select_for_update().first() if key else None
        if model is None:
            raise _missing_model()
        before = snapshot(model)
        for name in ("brand", "model_code", "marketing_name", "device_type", "imei_count"):
            value = getattr(changes, name)
            if value is not None:
                setattr(model, name, value)
        after = snapshot(model)
        changed = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
        if changed:
            model.updated_at = clock.now()
            await model.save()
            await audit.record(actor, "tac.updated", "TacModel", model.tac, changed)
    return model


async def _set_active(actor: Actor, tac: str, active: bool) -> TacModel:
    require(actor, EDITORS)
    key = _tac_or_none(tac)
    async with in_transaction() as conn:
        await lock_registry(conn)
        model = await TacModel.filter(tac=key).select_for_update().first() if key else None
        if model is None:
            raise _missing_model()
        if model.is_active == active:
            if active:
                raise invalid_state("TAC zaten etkin", "the TAC is already active")
            raise invalid_state("TAC zaten kullanımdan kaldırılmış", "the TAC is already retired")
        model.is_active = active
        model.updated_at = clock.now()
        await model.save(update_fields=["is_active", "updated_at"])
        await audit.record(
            actor, "tac.reactivated" if active else "tac.retired", "TacModel", model.tac
        )
    return model


async def retire_tac_model(actor: Actor, tac: str) -> TacModel:
    """Off the registry for new checks; the row stays (history, reactivation)."""
    return await _set_active(actor, tac, False)


async def reactivate_tac_model(actor: Actor, tac: str) -> TacModel:
    return await _set_active(actor, tac, True)
