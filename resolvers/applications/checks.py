"""The technical checks: one small unit per code, each evaluated over a device list (a
window of a long one: `AnalysisContext.window`).

A check answers "which devices fail me" for the devices at once, from in-memory sets and
a few bulk queries (never one query per IMEI). `AnalysisContext` fetches what several checks
share once: the TAC models, and the hits in the big tables (whitelist, blacklist, the other
applications' lists) and the list's repeated IMEIs (repeated anywhere in the list, whatever
the window). For a staged list (an application's stored list) those hits are joins inside
the database, started before the devices are even loaded (`prefetch`), so the database
works while the checks' Python does; they answer the rows they hit, so no check walks the
whole list to find them. The registry checks judge a list by its groups of alike devices
(`tac_groups`: the same declared brand/model and TACs), of which a million-device list
holds a handful, not device by device.

Every reason that applies is given: the registry checks look at each IMEI whose TAC can be
read (15 digits, the check digit right or wrong), so a device whose check digit is wrong is
still checked for its TAC, model and SIM count. A check that can tell which IMEIs fail it
records them (`AnalysisContext.blame`), for the firm's export.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress
from operator import itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

from models.applications import DEVICE_IMEI_COLUMNS
from models.checks import CheckCode
from models.imei import IMEI_LENGTH, TAC_LENGTH, invalid_imei_positions
from models.names import brand_model_key
from models.tac import TacModel
from models.workflow import IN_PROGRESS
from resolvers import bulk, interpreter
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


@dataclass(frozen=True, slots=True)
class TacGroup:
    """Devices alike for the registry checks: the same declared brand and model, and the
    same TAC (or none readable) at each IMEI position."""

    members: list[int]  # indexes into AnalysisContext.devices
    device: DeviceLine  # the first of them
    positions: tuple[int, ...]  # where its IMEIs with a readable TAC are (1-based)
    models: tuple[TacModel | None, ...]  # the registry's model of each (None: TAC unknown)


#: device index → the IMEIs of that device a lookup hit
Hits = dict[int, list[str]]
#: (row number, IMEI) pairs a staged lookup answers
_RowHits = list[tuple[int, str]]

_REGISTERED, _BLACKLISTED, _PENDING, _REPEATED = "registered", "blacklisted", "pending", "repeated"


@dataclass
class AnalysisContext:
    # None when the list is not an application's (an individual registration's IMEIs): then
    # every application in progress counts as "elsewhere".
    application_id: int | None
    devices: list[DeviceLine]
    _groups: list[TacGroup] | None = None
    _device_models: list[list[TacModel | None]] | None = None
    _hits: dict[str, Hits] = field(default_factory=dict)
    # The staged lookups under way, by name (see `prefetch`); tasks of the home loop.
    _lookups: dict[str, asyncio.Future[_RowHits]] = field(default_factory=dict)
    _runner: asyncio.Task[None] | None = None
    _rows: list[int] | None = None
    _listed: int | None = None  # see `_listed_imeis`
    # Held mainboard/swap IMEIs count as registered, except for the replacement that puts
    # them on the list.
    count_held: bool = True
    # True when `devices` is the application's stored list (its `device_imei` rows hold the
    # IMEIs): the lookups in the big tables then run as joins inside the database.
    staged: bool = False
    # The rows (after, up to] of a staged list these devices are (see `analysis`): a list
    # longer than a window is checked a window at a time. None: the whole list.
    window: tuple[int, int] | None = None
    # The IMEI columns a staged list's devices fill (`models.applications.imei_columns`):
    # a window is looked up a part per column.
    imei_columns: tuple[str, ...] = DEVICE_IMEI_COLUMNS
    # Lookups made once for a list checked in windows, shared by its windows' contexts
    # (each takes its own rows of them: `_window_of_whole`).
    whole_list: dict[str, asyncio.Future[_RowHits]] = field(default_factory=dict)
    # The event loop of the database connections, while the checks run in a thread.
    _home: asyncio.AbstractEventLoop | None = None
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

    def blame_positions(self, members: Sequence[int], code: CheckCode, at: Sequence[int]) -> None:
        """Record that alike devices (`members`, as many IMEIs each) fail ``code`` by their
        IMEIs at positions `at` (1-based)."""
        count = len(self.devices[members[0]].imeis)
        if count > 1 and len(at) < count:
            positions = ",".join(map(str, at))
            self._blamed.setdefault(code, {}).update(dict.fromkeys(members, positions))

    def all_imeis(self) -> set[str]:
        """The IMEIs to look up in the registers: digits only, so that two lists holding
        the same cell that is no IMEI ("3,53212E+14") are not taken for one device."""
        return {imei for device in self.devices for imei in device.imeis if _digits(imei)}

    async def tac_groups(self) -> list[TacGroup]:
        """The list as groups of alike devices, with the registry's model of each TAC."""
        if self._groups is None:
            # (brand, model, the TAC or None at each position): a flat tuple, its first two
            # items the names.
            keyed: dict[tuple[str | None, ...], list[int]] = {}
            get = keyed.get
            # Hot loop (a million devices): one key per device, no calls but the builtins;
            # a single IMEI (most devices) without the list built for several (770,000
            # devices: 0.35 s against 0.45 s).
            for index, (_, brand, model, imeis) in enumerate(self.devices):
                if len(imeis) == 1:
                    imei = imeis[0]
                    key: tuple[str | None, ...] = (
                        brand,
                        model,
                        imei[:TAC_LENGTH]
                        if len(imei) == IMEI_LENGTH and imei.isdigit() and imei.isascii()
                        else None,
                    )
                else:
                    key = (
                        brand,
                        model,
                        *[
                            imei[:TAC_LENGTH]
                            if len(imei) == IMEI_LENGTH and imei.isdigit() and imei.isascii()
                            else None
                            for imei in imeis
                        ],
                    )
                members = get(key)
                if members is None:
                    keyed[key] = [index]
                else:
                    members.append(index)
            listed = {tac for key in keyed for tac in key[2:] if tac is not None}
            found = (await self._in_database(models_for_tacs(listed))).get
            groups = []
            for key, members in keyed.items():
                readable = [(n, tac) for n, tac in enumerate(key[2:], start=1) if tac is not None]
                groups.append(
                    TacGroup(
                        members=members,
                        device=self.devices[members[0]],
                        positions=tuple(n for n, _ in readable),
                        models=tuple(found(tac) for _, tac in readable),
                    )
                )
            self._groups = groups
        return self._groups

    async def device_models(self) -> list[list[TacModel | None]]:
        """Per device, the registry model of each IMEI whose TAC can be read (15 digits,
        check digit aside; None: TAC unknown), in the device's order."""
        if self._device_models is None:
            per_device: list[list[TacModel | None]] = [[] for _ in self.devices]
            for group in await self.tac_groups():
                models = list(group.models)  # shared by the group (read-only)
                for index in group.members:
                    per_device[index] = models
            self._device_models = per_device
        return self._device_models

    async def let_go(self, *also: list[Any] | dict[Any, Any]) -> None:
        """Free the devices and what was derived from them (and `also`, the reasons found)
        in a thread, the event loop served meanwhile (`interpreter.release`): the context
        is done with."""
        big: list[list[Any] | dict[Any, Any]] = [*also, self.devices, self._rows or []]
        big += [self._device_models or [], *(g.members for g in self._groups or ())]
        big += [*self._hits.values(), *self._blamed.values()]
        self.devices, self._rows, self._device_models, self._groups = [], None, None, None
        self._hits, self._blamed = {}, {}
        await interpreter.release(*big)

    def prefetch(self, after: AnalysisContext | None = None) -> None:
        """Start the staged list's lookups in the big tables now (on the loop that owns
        the database connections), to run beside loading the list and the other checks.
        Each check then takes its answer (`registered` and the others).

        One after the other, in the order the checks take them, and `after` those of the
        window before: run at once they kept as many database processes busy, which left
        a 2-core machine's gateway waiting for a core (the operators' p99 during an
        analysis), for no shorter analysis."""
        if not self.staged or self._lookups:
            return
        assert self.application_id is not None
        found_in = self._staged_found_in
        held = "held_imei" if self.count_held else None
        order: list[tuple[str, Callable[[], Awaitable[_RowHits]]]] = [
            (_REPEATED, self._repeated_staged),
            (_REGISTERED, lambda: found_in("whitelist_entry", held)),
            (_BLACKLISTED, lambda: found_in("blacklist_entry")),
            (_PENDING, self._pending_staged),
        ]
        loop = asyncio.get_running_loop()
        self._lookups = {name: loop.create_future() for name, _ in order}
        before = after._runner if after is not None else None
        self._runner = asyncio.ensure_future(self._look_up_in_turn(order, before))

    async def _look_up_in_turn(
        self,
        order: list[tuple[str, Callable[[], Awaitable[_RowHits]]]],
        before: asyncio.Task[None] | None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])  # however it ended: this window's own answers
        for name, lookup in order:
            answer = self._lookups[name]
            started = time.perf_counter()
            try:
                answer.set_result(await lookup())
                log.debug(
                    "lookup %s of rows %s: %d hits, %.2f s",
                    name,
                    self.window,
                    len(answer.result()),
                    time.perf_counter() - started,
                )
            except asyncio.CancelledError:
                self._drop_answers()
                raise
            except Exception as error:  # the check that takes this answer raises it, and
                answer.set_exception(error)  # the analysis fails: the rest would be in vain
                self._drop_answers()
                return

    async def _start_lookups(self) -> None:
        self.prefetch()

    def discard(self) -> None:
        """Stop the lookups still under way (the analysis ended without them)."""
        if self._runner is not None:
            self._runner.cancel()
        self._drop_answers()

    def _drop_answers(self) -> None:
        for answer in self._lookups.values():
            if not answer.done():
                answer.cancel()
            elif not answer.cancelled():
                answer.exception()  # taken: a failed lookup no check asked for is no news

    async def registered(self) -> Hits:
        """IMEIs already registered: on the whitelist, or held for a mainboard/swap
        replacement (paid for, waiting for the report that puts them on the list)."""

        async def listed() -> set[str]:
            found = await self._found_in("whitelist_entry")
            if self.count_held:
                found |= await self._found_in("held_imei")
            return found

        return await self._hits_of(_REGISTERED, listed)

    async def blacklisted(self) -> Hits:
        return await self._hits_of(_BLACKLISTED, lambda: self._found_in("blacklist_entry"))

    async def pending_elsewhere(self) -> Hits:
        """IMEIs in the list of another application still in progress (any application in
        progress, for a list that is no application's)."""

        async def elsewhere() -> set[str]:
            sql = (
                "SELECT o.imei FROM device_imei o JOIN application a "
                f"ON a.id = o.application_id WHERE a.status IN ({_IN_PROGRESS}) "
            )
            if self.application_id is None:
                query = _present(sql + "AND o.imei IN ({in_})", self.all_imeis())
            else:
                # `{p1}` before `{in_}`: SQLite binds `?` in the order they appear.
                query = _present(
                    sql + "AND o.application_id <> {p1} AND o.imei IN ({in_})",
                    self.all_imeis(),
                    extra=(self.application_id,),
                )
            return await self._in_database(query)

        return await self._hits_of(_PENDING, elsewhere)

    async def repeated(self) -> Hits:
        """IMEIs the list holds more than once (in one device or in several; for a window
        of a longer list, repeated anywhere in the list). A staged list's are flagged when
        it is staged (`DeviceImei.repeated`) and read from their own index; counted in
        memory, a million IMEIs took 1.1-1.4 s of the analysis' interpreter, and in the
        database a window at a time, a 10-million-IMEI list 40 s of PostgreSQL."""

        async def twice() -> set[str]:
            counts: Counter[str] = Counter()
            for _, imeis, _ in _imeis_in_slices(self.devices):
                counts.update(imeis)
            return {imei for imei, count in counts.items() if count > 1 and _digits(imei)}

        return await self._hits_of(_REPEATED, twice)

    async def _hits_of(self, name: str, in_memory: Callable[[], Awaitable[set[str]]]) -> Hits:
        """A lookup's hits, once: the prefetched join for a staged list, else the IMEIs
        `in_memory` finds, matched to the devices holding them."""
        if name not in self._hits:
            if self.staged:
                self._hits[name] = await self._staged_hits(name)
            else:
                self._hits[name] = self._devices_holding(await in_memory())
        return self._hits[name]

    def _devices_holding(self, found: set[str]) -> Hits:
        hits: Hits = {}
        if found:
            for first, imeis, ends in _imeis_in_slices(self.devices):
                # Where the found IMEIs are, in C; a device for each of the few.
                for at in compress(range(len(imeis)), map(found.__contains__, imeis)):
                    hits.setdefault(first + bisect_right(ends, at), []).append(imeis[at])
        return hits

    async def _staged_hits(self, name: str) -> Hits:
        """A prefetched lookup's rows as devices of the list (loaded in row order)."""
        if name not in self._lookups:
            await self._in_database(self._start_lookups())
        rows = self._rows
        if rows is None:
            rows = self._rows = [device.row for device in self.devices]
        hits: Hits = {}
        # Only digits are looked up (see `all_imeis`): the same cell that is no IMEI in
        # two lists is not one device.
        for row, imei in await self._in_database(_outcome(self._lookups[name])):
            index = bisect_left(rows, row)
            if index < len(rows) and rows[index] == row and _digits(imei):
                hits.setdefault(index, []).append(imei)
        return hits

    async def _in_database(self, query: Awaitable[T]) -> T:
        """Run a query on the event loop that owns the database connections, also when the
        checks run in a thread of their own (see `evaluate`)."""
        if self._home is None or self._home is asyncio.get_running_loop():
            return await query
        assert isinstance(query, Coroutine)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(query, self._home))

    async def _found_in(self, table: str) -> set[str]:
        """This list's IMEIs that `table` (unique by `imei`) holds."""
        return await self._in_database(
            _present(f"SELECT imei FROM {table} WHERE imei IN ({{in_}})", self.all_imeis())
        )

    async def _staged_found_in(self, table: str, also: str | None = None) -> _RowHits:
        # A lookup a table, each from its smaller side: ORed EXISTS probed both tables for
        # every IMEI, and PostgreSQL does not turn two of them into semi-joins (2.6 s for a
        # million, against 1.8 s as one lookup a table). An IMEI found in both is one hit.
        found: dict[tuple[int, str], None] = {}
        for name in (table, also):
            if name is not None:
                found.update(dict.fromkeys(await self._staged_in(name)))
        return list(found)

    async def _staged_in(self, table: str) -> _RowHits:
        """The list's (row, IMEI) pairs `table` (unique by `imei`) holds, probed from the
        smaller side: from the table's when it has fewer rows than the list has IMEIs (up
        to `SMALL_TABLE_ROWS`, which bounds the count), else from the list's. Probed from
        the list's side, a million IMEIs took 0.43 s against an empty table and 2.4-3.0 s
        against a blacklist of 38,462 (measured on PostgreSQL).

        A window of a longer list is probed from its rows, which are not in IMEI order: a
        table with fewer rows than a window is probed from its side instead, once for the
        whole list (a 10,000,000-IMEI list's 16 windows each probed a blacklist of 384,620
        from their side, 1.3-1.6 s a window on PostgreSQL)."""
        if table in self.whole_list:  # found smaller than a window by a window before
            return await self._window_of_whole(table, lambda: self._staged_from_small(table))
        listed = await self._listed_imeis()
        limit = listed if self.window is not None else min(SMALL_TABLE_ROWS, listed)
        [(rows,)] = await bulk.select(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT ?) AS listed", [limit]
        )
        if rows < limit:
            if self.window is None:
                return await self._staged_from_small(table)
            return await self._window_of_whole(table, lambda: self._staged_from_small(table))
        return await self._staged(f"EXISTS (SELECT 1 FROM {table} t WHERE t.imei = {{imei}})")

    async def _listed_imeis(self) -> int:
        """The IMEIs the lookups probe for: the list's, or at least the window's rows
        (asked once: each lookup compares its table with it)."""
        if self._listed is None:
            if self.window is not None:
                self._listed = self.window[1] - self.window[0]
            else:
                [(count,)] = await bulk.select(
                    "SELECT imei_count FROM application WHERE id = ?", [self.application_id]
                )
                self._listed = int(count)
        return self._listed

    async def _staged_from_small(self, table: str) -> _RowHits:
        """The whole list's (row, IMEI) pairs `table` holds, probed from `table`'s side:
        for a table much smaller than the list.

        The join's order is fixed: PostgreSQL's `OFFSET 0` keeps the lateral subquery a
        subquery, run for each row of `table`, and SQLite keeps the left table of a `CROSS
        JOIN` outside. Left to the planners, whose statistics do not know the list just
        staged, the join was run from the list's side (a blacklist of 38,462 rows against a
        million IMEIs on PostgreSQL: 2.8 s, against 0.4 s from its side)."""
        assert self.application_id is not None
        listed = "d.application_id = ? AND d.imei = t.imei"
        found = await bulk.select_long(
            f"SELECT s.row_number, s.imei FROM {table} t CROSS JOIN LATERAL (SELECT "
            f"d.row_number, d.imei FROM device_imei d WHERE {listed} OFFSET 0) AS s"
            if bulk.is_postgres(bulk.current())
            else f"SELECT d.row_number, d.imei FROM {table} t CROSS JOIN device_imei d "
            f"WHERE {listed}",
            [self.application_id],
        )
        return [(int(row[0]), str(row[1])) for row in found]

    async def _repeated_staged(self) -> _RowHits:
        """The list's (or the window's) rows whose IMEI the list holds more than once:
        flagged when the list was staged, read from their own index."""
        window = "" if self.window is None else " AND row_number > ? AND row_number <= ?"
        found = await bulk.select_packed(
            "SELECT row_number, imei FROM device_imei WHERE application_id = ? AND repeated"
            + window,
            [self.application_id, *(self.window or ())],
            2,
            long=True,
        )
        return [(int(row[0]), str(row[1])) for row in found]

    async def _pending_staged(self) -> _RowHits:
        # The other lists in progress, probed from their side when they hold fewer IMEIs
        # than this list (their counts are the applications' own).
        [(others,)] = await bulk.select(
            "SELECT COALESCE(SUM(imei_count), 0) FROM application "
            f"WHERE status IN ({_IN_PROGRESS}) AND id <> ?",
            [self.application_id],
        )
        if int(others) < await self._listed_imeis():
            if self.window is None:
                return await self._pending_from_others()
            # Fewer than a window's rows: probed once for the whole list, not once a window
            # (a 10,000,000-IMEI list's 16 windows each probed the same 384,620 IMEIs).
            return await self._window_of_whole(_PENDING, self._pending_from_others)
        return await self._staged(
            "EXISTS (SELECT 1 FROM device_imei t JOIN application a ON a.id = t.application_id "
            "WHERE t.imei = {imei} AND t.application_id <> {list} "
            f"AND a.status IN ({_IN_PROGRESS}))"
        )

    async def _window_of_whole(
        self, name: str, lookup: Callable[[], Awaitable[_RowHits]]
    ) -> _RowHits:
        """This window's pairs of `lookup` made once for the whole list (by the window
        that asks first), for a lookup of few IMEIs: a table, or the other lists in
        progress, with fewer IMEIs than a window has rows, each held by a row of this list
        or a few (the pairs are kept until the last window has taken its own)."""
        assert self.window is not None
        answer = self.whole_list.get(name)
        if answer is None:

            async def in_row_order() -> _RowHits:
                return sorted(await lookup())

            answer = self.whole_list[name] = asyncio.ensure_future(in_row_order())
        pairs = await asyncio.shield(answer)  # a window given up leaves it to the others
        after, up_to = self.window
        row = itemgetter(0)
        return pairs[bisect_right(pairs, after, key=row) : bisect_right(pairs, up_to, key=row)]

    async def _pending_from_others(self) -> _RowHits:
        """The whole list's (row, IMEI) pairs that other lists in progress hold, probed
        from their IMEIs, an application at a time (the order fixed as in
        `_staged_from_small`)."""
        listed = "d.application_id = ? AND d.imei = t.imei"
        others = f"a.status IN ({_IN_PROGRESS}) AND a.id <> ?"
        found = await bulk.select_long(
            "SELECT s.row_number, s.imei FROM application a CROSS JOIN LATERAL (SELECT "
            "t.imei FROM device_imei t WHERE t.application_id = a.id OFFSET 0) AS t "
            "CROSS JOIN LATERAL (SELECT d.row_number, d.imei FROM device_imei d "
            f"WHERE {listed} OFFSET 0) AS s WHERE {others}"
            if bulk.is_postgres(bulk.current())
            else "SELECT d.row_number, d.imei FROM application a CROSS JOIN device_imei t "
            f"CROSS JOIN device_imei d WHERE t.application_id = a.id AND {listed} AND {others}",
            [self.application_id, self.application_id],
        )
        # An IMEI in two other lists is one hit.
        return list(dict.fromkeys((int(row[0]), str(row[1])) for row in found))

    async def _staged(self, condition: str) -> _RowHits:
        """The list's (row, IMEI) pairs whose IMEI meets `condition` (`{imei}` the IMEI,
        `{list}` the application's id): probed in the big tables' indexes inside the
        database, not a million IMEIs sent to it.

        The whole list (`window` None): one pass over its `device_imei` rows, in IMEI order
        (each probe lands beside the one before). A window of a longer list: its device
        rows, a part per IMEI column, each an equality (PostgreSQL plans `t.imei IN
        (d.imei1, d.imei2, …)` against the list's own index as a filter over every row of
        the list, for every row)."""
        assert self.application_id is not None
        if self.window is None:
            sql = (
                "SELECT s.row_number, s.imei FROM device_imei s WHERE s.application_id = ? "
                f"AND ({condition.format(imei='s.imei', list='s.application_id')})"
            )
            found = await bulk.select_packed(sql, [self.application_id], 2, long=True)
        else:
            rows = "d.application_id = ? AND d.row_number > ? AND d.row_number <= ?"
            found = await bulk.select_packed(
                " UNION ALL ".join(
                    f"SELECT d.row_number, d.{column} FROM device d WHERE {rows} "
                    f"AND d.{column} IS NOT NULL AND ("
                    f"{condition.format(imei='d.' + column, list='d.application_id')})"
                    for column in self.imei_columns
                ),
                [self.application_id, *self.window] * len(self.imei_columns),
                2,
                long=True,
            )
        return [(int(row[0]), str(row[1])) for row in found]


# A table up to this many rows is probed from its side (`_staged_from_small`).
SMALL_TABLE_ROWS = 100_000
_IN_PROGRESS = ", ".join(f"'{s.value}'" for s in sorted(IN_PROGRESS))


async def _outcome(answer: asyncio.Future[T]) -> T:
    return await answer


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
        # A slice's IMEIs end to end, checked at once; a device is found from where its
        # IMEIs end, only for the few that fail.
        wrong: dict[int, list[str]] = {}
        for first, imeis, ends in _imeis_in_slices(ctx.devices):
            for at in invalid_imei_positions(imeis):
                wrong.setdefault(first + bisect_right(ends, at), []).append(imeis[at])
        for index, failing_imeis in wrong.items():
            ctx.blame(index, self.code, failing_imeis)
        return set(wrong)


_IMEIS_OF = itemgetter(3)  # DeviceLine.imeis
# Devices per slice of the in-memory passes over all IMEIs: each of their calls runs in C
# without letting go of the interpreter's lock, and a request served meanwhile waits for
# the lock at each of its steps. Over a million IMEIs at once one call held it up to
# 200 ms (operators' p99 during a 1M analysis 232 ms); slices of 20,000 devices still gave
# 122 ms; of 2,000 (calls well under a millisecond) 66 ms, as before these passes (67 ms).
_SLICE = 2_000


def _imeis_in_slices(
    devices: Sequence[DeviceLine],
) -> Iterator[tuple[int, list[str], list[int]]]:
    """For each slice of the devices: its first device's index, the slice's IMEIs end to
    end, and where each device's IMEIs end among them (cumulative counts)."""
    for first in range(0, len(devices), _SLICE):
        imeis = list(map(_IMEIS_OF, devices[first : first + _SLICE]))
        yield first, list(chain.from_iterable(imeis)), list(accumulate(map(len, imeis)))


def _digits(imei: str) -> bool:
    return imei.isascii() and imei.isdigit()


def _hit_by(ctx: AnalysisContext, code: CheckCode, hits: Hits) -> set[int]:
    """The devices a lookup hit, blamed on the IMEIs it hit."""
    for index, imeis in hits.items():
        ctx.blame(index, code, imeis)
    return set(hits)


class DuplicateInList:
    code = CheckCode.DUPLICATE_IN_LIST

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        # Every occurrence fails: the firm must say which device the IMEI really is. A cell
        # that is no number ("3,53212E+14" twice) says nothing about which IMEIs were
        # meant: only digits are compared.
        return _hit_by(ctx, self.code, await ctx.repeated())


class TacNotFound:
    code = CheckCode.TAC_NOT_FOUND

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        failing: set[int] = set()
        for group in await ctx.tac_groups():
            unknown = [n for n, m in zip(group.positions, group.models, strict=True) if m is None]
            if unknown:
                failing.update(group.members)
                ctx.blame_positions(group.members, self.code, unknown)
        return failing


class ImeiModelConflict:
    code = CheckCode.IMEI_MODEL_CONFLICT

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        failing: set[int] = set()
        for group in await ctx.tac_groups():
            known = [(n, m) for n, m in zip(group.positions, group.models, strict=True) if m]
            if len({(m.brand, m.model_code) for _, m in known}) > 1:
                failing.update(group.members)
                ctx.blame_positions(group.members, self.code, [n for n, _ in known])
        return failing


class ModelMismatch:
    code = CheckCode.MODEL_MISMATCH

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        key = brand_model_key
        failing: set[int] = set()
        for group in await ctx.tac_groups():
            declared = (key(group.device.brand), key(group.device.model))
            others = [
                (n, m)
                for n, m in zip(group.positions, group.models, strict=True)
                if m is not None and (key(m.brand), key(m.model_code)) != declared
            ]
            if others:
                failing.update(group.members)
                ctx.blame_positions(group.members, self.code, [n for n, _ in others])
        return failing


class SimCountMismatch:
    """The IMEIs given (readable or not: the firm gave them) against the TAC's model."""

    code = CheckCode.SIM_COUNT_MISMATCH

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        failing: set[int] = set()
        for group in await ctx.tac_groups():
            known = [m for m in group.models if m is not None]
            if known and len(group.device.imeis) != known[0].imei_count:
                failing.update(group.members)
        return failing


class AlreadyRegistered:
    code = CheckCode.ALREADY_REGISTERED

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        return _hit_by(ctx, self.code, await ctx.registered())


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


Found = Callable[[CheckCode, set[int]], None]


async def evaluate(
    ctx: AnalysisContext,
    checks: Iterable[Check],
    *,
    in_thread: bool = False,
    found: Found | None = None,
) -> dict[int, list[CheckCode]]:
    """Every failing device's reasons, in the checks' order; `found` is told each check's
    failing devices as soon as that check is done (where the checks run).

    `in_thread`: the checks' own work (a million devices' worth of pure Python) runs in a
    worker thread with an event loop of its own, so the process's loop goes on serving
    requests; their queries still run on this loop (`AnalysisContext._in_database`), so
    checks reach the database only through the context."""
    ctx.prefetch()
    if not in_thread:
        return await _evaluate(ctx, checks, found)
    ctx._home = asyncio.get_running_loop()
    try:
        with interpreter.short_switches():
            return await asyncio.to_thread(asyncio.run, _evaluate(ctx, checks, found))
    finally:
        ctx._home = None


async def _evaluate(
    ctx: AnalysisContext, checks: Iterable[Check], found: Found | None
) -> dict[int, list[CheckCode]]:
    """Every failing device's reasons, in the checks' order."""
    reasons: dict[int, list[CheckCode]] = {}
    for check in checks:
        started = time.perf_counter()
        failing = await check.failing(ctx)
        log.debug("%s: %d failing, %.2f s", check.code, len(failing), time.perf_counter() - started)
        if found is not None:
            found(check.code, failing)
        for index in sorted(failing):
            reasons.setdefault(index, []).append(check.code)
    return reasons
