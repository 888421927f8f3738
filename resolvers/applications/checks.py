"""The technical checks: one small unit per code, each evaluated over the whole device list.

A check answers "which devices fail me" for the full list at once, from in-memory sets and
a few bulk queries (never one query per IMEI). `AnalysisContext` fetches what several checks
share (TAC models, whitelist and blacklist hits) once, on first use.

Every reason that applies is given: the registry checks look at each IMEI whose TAC can be
read (15 digits, the check digit right or wrong), so a device whose check digit is wrong is
still checked for its TAC, model and SIM count. A check that can tell which IMEIs fail it
records them (`AnalysisContext.blame`), for the firm's export.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, TypeVar

from models.checks import CheckCode
from models.imei import IMEI_LENGTH, TAC_LENGTH, is_valid_imei
from models.names import brand_model_key
from models.tac import TacModel
from models.workflow import IN_PROGRESS
from resolvers import bulk
from resolvers.tac.registry import models_for_tacs

log = logging.getLogger("mcks.analysis")

T = TypeVar("T")

# Reasons of a device as a whole, not of some of its IMEIs.
DEVICE_WIDE_CODES = frozenset({CheckCode.SIM_COUNT_MISMATCH})
_ALL_POSITIONS = ("", "1", "1,2", "1,2,3", "1,2,3,4")


class DeviceLine(NamedTuple):
    """One device as the checks see it (a tuple: a million of them are built per analysis,
    three times faster than frozen dataclass instances)."""

    row: int
    brand: str
    model: str
    imeis: tuple[str, ...]


@dataclass
class AnalysisContext:
    # None when the list is not an application's (an individual registration's IMEIs): then
    # every application in progress counts as "elsewhere".
    application_id: int | None
    devices: list[DeviceLine]
    _valid: list[bool] | None = None
    _models: dict[str, TacModel] | None = None
    _device_models: list[list[TacModel | None]] | None = None
    _tac_imeis: list[tuple[str, ...]] | None = None
    _whitelisted: set[str] | None = None
    _blacklisted: set[str] | None = None
    _pending: set[str] | None = None
    # Held mainboard/swap IMEIs count as registered, except for the replacement that puts
    # them on the list.
    count_held: bool = True
    # True when `devices` is the application's stored list (its `device_imei` rows hold the
    # IMEIs): the lookups in the big tables then run as joins inside the database.
    staged: bool = False
    # The event loop of the database connections, while the checks run in a thread.
    _home: asyncio.AbstractEventLoop | None = None
    # What the registry says a device is, for showing red groups.
    registry_identity: dict[int, tuple[str, str]] = field(default_factory=dict)
    # code → device index → where the IMEIs failing it are ("2", "1,3"), kept only when not
    # all of the device's IMEIs fail it (a million-device list fails mostly whole devices).
    _blamed: dict[CheckCode, dict[int, str]] = field(default_factory=dict)

    def blame(self, index: int, code: CheckCode, imeis: Iterable[str]) -> None:
        """Record which of a failing device's IMEIs fail the check ``code``."""
        own = self.devices[index].imeis
        if len(own) == 1:
            return
        failing = set(imeis)
        positions = [str(n) for n, imei in enumerate(own, start=1) if imei in failing]
        if len(positions) < len(own):
            self._blamed.setdefault(code, {})[index] = ",".join(positions)

    def imei_positions(self, index: int, code: CheckCode) -> str | None:
        """Where the IMEIs failing ``code`` are among the device's ("1,3"); None for a
        reason of the device as a whole (its SIM count)."""
        if code in DEVICE_WIDE_CODES:
            return None
        blamed = self._blamed.get(code)
        if blamed is not None and index in blamed:
            return blamed[index]
        return _ALL_POSITIONS[len(self.devices[index].imeis)]

    def all_imeis(self) -> set[str]:
        """The IMEIs to look up in the registers: digits only, so that two lists holding
        the same cell that is no IMEI ("3,53212E+14") are not taken for one device."""
        return {imei for device in self.devices for imei in device.imeis if _digits(imei)}

    def valid(self) -> list[bool]:
        if self._valid is None:
            self._valid = [all(is_valid_imei(i) for i in d.imeis) for d in self.devices]
        return self._valid

    async def device_models(self) -> list[list[TacModel | None]]:
        """Per device, the registry model of each IMEI whose TAC can be read (None: TAC
        unknown), in the order of :meth:`tac_imeis`."""
        if self._device_models is None:
            # Each IMEI's TAC is taken once; a list holds few TAC combinations, so devices
            # sharing one share its (read-only) list of models.
            device_tacs = [tuple(imei[:TAC_LENGTH] for imei in imeis) for imeis in self.tac_imeis()]
            combinations = set(device_tacs)
            tacs = {tac for combination in combinations for tac in combination}
            self._models = await self._in_database(models_for_tacs(tacs))
            found = self._models.get
            models_of = {c: [found(tac) for tac in c] for c in combinations}
            self._device_models = [models_of[c] for c in device_tacs]
        return self._device_models

    def tac_imeis(self) -> list[tuple[str, ...]]:
        """Per device, its IMEIs whose TAC can be read: 15 digits, check digit aside."""
        if self._tac_imeis is None:
            readable = _tac_readable
            self._tac_imeis = [
                # The device's own tuple when every IMEI is readable (the usual device): a
                # million-device list holds no second copy.
                d.imeis if all(map(readable, d.imeis)) else tuple(filter(readable, d.imeis))
                for d in self.devices
            ]
        return self._tac_imeis

    async def whitelisted(self) -> set[str]:
        """IMEIs already registered: on the whitelist, or held for a mainboard/swap
        replacement (paid for, waiting for the report that puts them on the list)."""
        if self._whitelisted is None:
            listed = await self._found_in("whitelist_entry")
            held = await self._found_in("held_imei") if self.count_held else set()
            self._whitelisted = listed | held
        return self._whitelisted

    async def blacklisted(self) -> set[str]:
        if self._blacklisted is None:
            self._blacklisted = await self._found_in("blacklist_entry")
        return self._blacklisted

    async def pending_elsewhere(self) -> set[str]:
        if self._pending is None:
            statuses = ", ".join(f"'{s.value}'" for s in sorted(IN_PROGRESS))
            elsewhere = (
                "SELECT 1 FROM device_imei o JOIN application a ON a.id = o.application_id "
                f"WHERE o.imei = s.imei AND a.status IN ({statuses})"
            )
            if self.staged:
                self._pending = await self._staged_matching(
                    f"EXISTS ({elsewhere} AND o.application_id <> ?)"
                )
            else:
                sql = (
                    "SELECT di.imei FROM device_imei di JOIN application a "
                    f"ON a.id = di.application_id WHERE a.status IN ({statuses}) "
                )
                if self.application_id is None:
                    self._pending = await self._in_database(
                        _present(sql + "AND di.imei IN ({in_})", self.all_imeis())
                    )
                else:
                    # `{p1}` before `{in_}`: SQLite binds `?` in the order they appear.
                    self._pending = await self._in_database(
                        _present(
                            sql + "AND di.application_id <> {p1} AND di.imei IN ({in_})",
                            self.all_imeis(),
                            extra=(self.application_id,),
                        )
                    )
        return self._pending

    async def _in_database(self, query: Coroutine[Any, Any, T]) -> T:
        """Run a query on the event loop that owns the database connections, also when the
        checks run in a thread of their own (see `evaluate`)."""
        if self._home is None or self._home is asyncio.get_running_loop():
            return await query
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(query, self._home))

    async def _found_in(self, table: str) -> set[str]:
        """This list's IMEIs that `table` (unique by `imei`) holds."""
        if self.staged:
            return await self._staged_matching(
                f"EXISTS (SELECT 1 FROM {table} t WHERE t.imei = s.imei)"
            )
        return await self._in_database(
            _present(f"SELECT imei FROM {table} WHERE imei IN ({{in_}})", self.all_imeis())
        )

    async def _staged_matching(self, condition: str) -> set[str]:
        """The staged IMEIs meeting `condition` (on `s`, the list's `device_imei` rows; its
        `?` are bound to the application's id): one indexed join inside the database, not a
        million IMEIs sent back to it."""
        assert self.application_id is not None
        rows = await self._in_database(
            bulk.select(
                f"SELECT s.imei FROM device_imei s WHERE s.application_id = ? AND {condition}",
                [self.application_id] * (1 + condition.count("?")),
            )
        )
        # Only digits are looked up (see `all_imeis`): the same cell that is no IMEI in
        # two lists is not one device.
        return {row[0] for row in rows if _digits(row[0])}


async def _present(sql: str, values: Iterable[str], extra: tuple[object, ...] = ()) -> set[str]:
    return {row[0] async for row in bulk.select_in(sql, values, extra)}


class Check(Protocol):
    code: CheckCode

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        """Indexes (into ctx.devices) of the devices that fail this check."""
        ...


class InvalidImei:
    code = CheckCode.INVALID_IMEI

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        failing = {i for i, ok in enumerate(ctx.valid()) if not ok}
        for i in failing:
            ctx.blame(i, self.code, (m for m in ctx.devices[i].imeis if not is_valid_imei(m)))
        return failing


def _digits(imei: str) -> bool:
    return imei.isascii() and imei.isdigit()


def _tac_readable(imei: str) -> bool:
    return len(imei) == IMEI_LENGTH and imei.isascii() and imei.isdigit()


class DuplicateInList:
    code = CheckCode.DUPLICATE_IN_LIST

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        # A cell that is no number ("3,53212E+14" twice) says nothing about which IMEIs
        # were meant: only digits are compared.
        counts = Counter(imei for d in ctx.devices for imei in d.imeis if _digits(imei))
        failing = set()
        # Every occurrence fails: the firm must say which device the IMEI really is.
        for i, d in enumerate(ctx.devices):
            twice = [imei for imei in d.imeis if counts[imei] > 1]
            if twice:
                failing.add(i)
                ctx.blame(i, self.code, dict.fromkeys(twice))
        return failing


class TacNotFound:
    code = CheckCode.TAC_NOT_FOUND

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        models = await ctx.device_models()
        tac_imeis = ctx.tac_imeis()
        failing = set()
        for i, found in enumerate(models):
            unknown = [imei for imei, m in zip(tac_imeis[i], found, strict=True) if m is None]
            if unknown:
                failing.add(i)
                ctx.blame(i, self.code, unknown)
        return failing


def _known(found: list[TacModel | None]) -> list[TacModel]:
    return [m for m in found if m is not None]


class ImeiModelConflict:
    code = CheckCode.IMEI_MODEL_CONFLICT

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        models = await ctx.device_models()
        tac_imeis = ctx.tac_imeis()
        failing = set()
        for i, found in enumerate(models):
            if len({(m.brand, m.model_code) for m in _known(found)}) > 1:
                failing.add(i)
                ctx.blame(
                    i,
                    self.code,
                    (imei for imei, m in zip(tac_imeis[i], found, strict=True) if m is not None),
                )
        return failing


class ModelMismatch:
    code = CheckCode.MODEL_MISMATCH

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        models = await ctx.device_models()
        tac_imeis = ctx.tac_imeis()
        # A list repeats a few names a million times: each is keyed once.
        key = lru_cache(maxsize=10_000)(brand_model_key)
        failing = set()
        for i, found in enumerate(models):
            known = _known(found)
            if not known:
                continue
            device = ctx.devices[i]
            declared = (key(device.brand), key(device.model))
            others = [
                (imei, m)
                for imei, m in zip(tac_imeis[i], found, strict=True)
                if m is not None and (key(m.brand), key(m.model_code)) != declared
            ]
            if others:
                failing.add(i)
                ctx.registry_identity[i] = (others[0][1].brand, others[0][1].model_code)
                ctx.blame(i, self.code, (imei for imei, _ in others))
        return failing


class SimCountMismatch:
    """The IMEIs given (readable or not: the firm gave them) against the TAC's model."""

    code = CheckCode.SIM_COUNT_MISMATCH

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        models = await ctx.device_models()
        return {
            i
            for i, found in enumerate(models)
            if (known := _known(found)) and len(ctx.devices[i].imeis) != known[0].imei_count
        }


def _hit_by(ctx: AnalysisContext, code: CheckCode, hits: set[str]) -> set[int]:
    """The devices with an IMEI in ``hits``, blamed on those IMEIs."""
    failing = set()
    if hits:
        for i, d in enumerate(ctx.devices):
            if not hits.isdisjoint(d.imeis):
                failing.add(i)
                ctx.blame(i, code, (imei for imei in d.imeis if imei in hits))
    return failing


class AlreadyRegistered:
    code = CheckCode.ALREADY_REGISTERED

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        return _hit_by(ctx, self.code, await ctx.whitelisted())


class Blacklisted:
    code = CheckCode.BLACKLISTED

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        return _hit_by(ctx, self.code, await ctx.blacklisted())


class PendingElsewhere:
    code = CheckCode.PENDING_ELSEWHERE

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        return _hit_by(ctx, self.code, await ctx.pending_elsewhere())


ALL_CHECKS: tuple[Check, ...] = (
    InvalidImei(),
    DuplicateInList(),
    TacNotFound(),
    ImeiModelConflict(),
    ModelMismatch(),
    SimCountMismatch(),
    AlreadyRegistered(),
    Blacklisted(),
    PendingElsewhere(),
)


async def evaluate(
    ctx: AnalysisContext, checks: Iterable[Check], *, in_thread: bool = False
) -> dict[int, list[CheckCode]]:
    """Every failing device's reasons, in the checks' order.

    `in_thread`: the checks' own work (a million devices' worth of pure Python) runs in a
    worker thread with an event loop of its own, so the process's loop goes on serving
    requests; their queries still run on this loop (`AnalysisContext._in_database`), so
    checks reach the database only through the context."""
    if not in_thread:
        return await _evaluate(ctx, checks)
    ctx._home = asyncio.get_running_loop()
    try:
        return await asyncio.to_thread(asyncio.run, _evaluate(ctx, checks))
    finally:
        ctx._home = None


async def _evaluate(ctx: AnalysisContext, checks: Iterable[Check]) -> dict[int, list[CheckCode]]:
    """Every failing device's reasons, in the checks' order."""
    reasons: dict[int, list[CheckCode]] = {}
    for check in checks:
        started = time.perf_counter()
        failing = await check.failing(ctx)
        log.debug("%s: %d failing, %.2f s", check.code, len(failing), time.perf_counter() - started)
        for index in sorted(failing):
            reasons.setdefault(index, []).append(check.code)
    return reasons
