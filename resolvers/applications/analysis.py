"""The analysis job: run the technical checks over an application's devices, a window of
rows at a time, store each window's results, then move the application on.

Restart-safe: the list counts as analysed only once the last transaction sets its counts
(`outcome.analysed`); a job interrupted before leaves failure rows that no reader takes
and that the next run deletes first, and the job's lease expiry lets another worker run it
again; the same input gives the same results. Every transaction first checks that its run
is still the application's current one (a withdrawn or superseded run writes nothing more).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import clock
from models.applications import DEVICE_IMEI_COLUMNS, Application, imei_columns
from models.checks import IMEI_STANDARD_CODES, CheckCode
from models.jobs import Job
from models.workflow import Action, ApplicationKind, ApplicationStatus, Channel
from resolvers import bulk, interpreter, jobs, metrics
from resolvers.actor import Actor
from resolvers.applications import declarations, transitions
from resolvers.applications.checks import ALL_CHECKS, AnalysisContext, DeviceLine, evaluate
from resolvers.errors import Bilingual

log = logging.getLogger("mcks.analysis")

JOB_KIND = "application.analysis"
ANALYST = Actor.system("analysis")


async def queue_analysis(application: Application) -> Job:
    """Start a new analysis run (inside the caller's transaction, the row locked)."""
    application.analysis_run += 1
    application.analysis_started_at = clock.now()
    application.analysis_finished_at = None
    application.passed_device_count = None
    application.failed_device_count = None
    await application.save(
        update_fields=[
            "analysis_run",
            "analysis_started_at",
            "analysis_finished_at",
            "passed_device_count",
            "failed_device_count",
        ]
    )
    return await jobs.enqueue(
        JOB_KIND,
        {"applicationId": application.id, "run": application.analysis_run},
        dedupe_key=f"analysis:{application.id}:{application.analysis_run}",
    )


LOAD_ROWS = 5_000  # row numbers per query: each a few milliseconds of the event loop
# A list up to this many row numbers is checked at once, its lookups the cheapest (about
# 350 MB for a million devices); a longer one a window at a time, one window checked while
# the one before is written: what the analysis holds is two windows', whatever the list's
# size.
WHOLE_LIST_ROWS = 1_000_000
WINDOW_ROWS = 500_000


async def row_bounds(application_id: int) -> tuple[int, int] | None:
    """The list's first and last row numbers (None: no devices)."""
    first, last = (
        await bulk.select(
            "SELECT MIN(row_number), MAX(row_number) FROM device WHERE application_id = ?",
            [application_id],
        )
    )[0]
    return None if first is None else (int(first), int(last))


def windows(bounds: tuple[int, int] | None, size: int) -> list[tuple[int, int]]:
    """The row ranges (after, up to] covering `bounds`, `size` row numbers each."""
    if bounds is None:
        return []
    first, last = bounds
    return [(start, min(start + size, last)) for start in range(first - 1, last, size)]


async def load_devices(
    application_id: int,
    window: tuple[int, int] | None = None,
    columns: tuple[str, ...] = DEVICE_IMEI_COLUMNS,
) -> list[DeviceLine]:
    """The list's devices in row order (those of `window`, rows (after, up to], when
    given), a range of row numbers per query (a million rows in one answer would hold the
    event loop, and on SQLite the connection, for seconds).

    Ranges, not "the next N after the last row": PostgreSQL's statistics do not know a list
    staged moments ago, and it planned `row_number > ? ORDER BY row_number LIMIT N` as a
    scan of the whole rest of the list and a sort, each batch (18 s for a million rows in
    batches of 5,000, against 2 s). Only the IMEI `columns` the list fills are read."""
    devices: list[DeviceLine] = []
    if window is None:
        bounds = await row_bounds(application_id)
        if bounds is None:
            return devices
        window = (bounds[0] - 1, bounds[1])
    # One string per distinct brand and model, not one per row: a list holds a handful of
    # each, and a million rows' copies were a fifth of the analysis' memory.
    names: dict[str, str] = {}
    name = names.setdefault
    after, up_to = window
    query = (
        f"SELECT row_number, brand, model_code, {', '.join(columns)} FROM device "
        "WHERE application_id = ? AND row_number > ? AND row_number <= ? ORDER BY row_number"
    )
    for start in range(after, up_to, LOAD_ROWS):
        rows = await bulk.select_packed(
            query, [application_id, start, min(start + LOAD_ROWS, up_to)], 3 + len(columns)
        )
        devices += [
            DeviceLine(r[0], name(r[1], r[1]), name(r[2], r[2]), tuple(filter(None, r[3:])))
            for r in rows
        ]
    return devices


@jobs.handler(JOB_KIND)
async def run_analysis_job(job: Job) -> None:
    await analyse(int(job.payload["applicationId"]), int(job.payload["run"]))


async def analyse(application_id: int, run: int) -> None:
    application = await Application.get_or_none(id=application_id)
    if application is None or not _current(application, run):
        return  # withdrawn, or superseded by a newer run: nothing to do
    await _analyse(application, run)


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    load: float = 0.0
    checks: float = 0.0
    write: float = 0.0


@interpreter.with_collector_paused
async def _analyse(application: Application, run: int) -> None:
    """The list at once, or a long one a window of rows at a time: each window's lookups
    in the big tables run in the database while the window before is checked, and its
    results are written while the window after is checked."""
    application_id = application.id
    started = time.perf_counter()
    checks = ALL_CHECKS
    # Art. 12(2), 12(4): test devices need not meet the IMEI standard — on paper; an
    # electronic test application is one whose IMEIs do, with TACs in the registry.
    if application.kind == ApplicationKind.TEST and application.channel == Channel.PAPER:
        checks = tuple(c for c in ALL_CHECKS if c.code not in IMEI_STANDARD_CODES)
    bounds = await row_bounds(application_id)
    ranges: list[tuple[int, int] | None] = []  # no devices: nothing to look up or check
    whole = (0, 0)
    if bounds is not None:
        whole = (bounds[0] - 1, bounds[1])
        # A window of None: the whole list, its lookups the cheapest (see `_staged`).
        ranges = (
            [None] if bounds[1] - bounds[0] < WHOLE_LIST_ROWS else [*windows(bounds, WINDOW_ROWS)]
        )
    columns = imei_columns(application.widest_device)
    # The lookups made once for all windows (see `AnalysisContext.whole_list`).
    whole_list: dict[str, asyncio.Future[list[tuple[int, str]]]] = {}
    ahead = [
        AnalysisContext(
            application_id=application_id,
            devices=[],
            staged=True,
            window=window,
            imei_columns=columns,
            whole_list=whole_list,
        )
        for window in ranges
    ]
    tally = _Tally()
    ctx: AnalysisContext | None = None
    # The window before, being written while this one is loaded and checked.
    storing: _Writer | None = None
    writer: _Writer | None = None
    # On PostgreSQL two windows' lookups run at once: the next window's wait for those of
    # the window `before` this one, not for this one's. There a window's lookups in the big
    # tables take longer than its checks (a 10,000,000-IMEI list: 85 s of lookups, one
    # after the other, in an analysis of 89 s), each in a database process of its own. On
    # SQLite they share one connection (`bulk.select_long`): one window's at a time.
    before: AnalysisContext | None = None
    overlapping = bulk.is_postgres(bulk.current())
    try:
        if not await _clear_results(application_id, run):
            return
        while ahead:
            # A window's context (its devices, groups, reasons and hits) is let go once the
            # window is written.
            ctx = ahead.pop(0)
            ctx.prefetch()  # the first window's; the others' are under way
            if ahead:
                # The next window's lookups, after this one's (or the one before's): they
                # run while this window is checked.
                ahead[0].prefetch(after=before if overlapping else ctx)
            step = time.perf_counter()
            ctx.devices = await load_devices(application_id, ctx.window or whole, columns)
            loaded = time.perf_counter()
            # Each check's reasons are written while the checks after it run.
            writer = _Writer(application_id, run, ctx)
            try:
                reasons = await evaluate(ctx, checks, in_thread=True, found=writer.found)
            finally:
                writer.close()
            evaluated = time.perf_counter()
            if storing is not None and not await storing.task:
                return
            storing, writer = writer, None
            tally.passed += len(ctx.devices) - len(reasons)
            tally.failed += len(reasons)
            tally.load += loaded - step
            tally.checks += evaluated - loaded
            tally.write += time.perf_counter() - evaluated  # the wait for the window before
            done, ctx = ctx, None
            before = done
            await done.let_go(reasons)
        writing = time.perf_counter()
        if storing is not None and not await storing.task:
            return
        tally.write += time.perf_counter() - writing
    finally:
        # Writes still under way (the run failed or was superseded) stop after their
        # transaction, which is left to end: cancelled midway, a SQLite transaction can
        # leave its connection taken. What they wrote is no result (the list is not marked
        # analysed) and the next run deletes it first. A write that failed is not unseen.
        for unfinished in (storing, writer):
            if unfinished is not None:
                unfinished.stop()
                with contextlib.suppress(Exception):
                    await asyncio.shield(unfinished.task)
        for left in (ctx, *ahead):
            if left is not None:
                left.discard()
        for answer in whole_list.values():
            if not answer.cancel() and not answer.cancelled():
                answer.exception()  # taken: a failed lookup no window asked for is no news
    finishing = time.perf_counter()
    if not await _finish(application_id, run, tally.passed, tally.failed):
        return
    log.info(
        "application %s analysed (run %s): %s devices, %s failed in %.2f s, %s windows "
        "(load %.2f, checks %.2f, write %.2f, finish %.2f)",
        application_id,
        run,
        tally.passed + tally.failed,
        tally.failed,
        time.perf_counter() - started,
        len(ranges),
        tally.load,
        tally.checks,
        tally.write,
        time.perf_counter() - finishing,
    )
    metrics.analysis_finished(time.perf_counter() - started)


async def _locked_if_current(application_id: int, run: int) -> Application | None:
    """The application, its row locked, while this run is still its current one."""
    locked = await Application.filter(id=application_id).select_for_update().first()
    return locked if locked is not None and _current(locked, run) else None


async def _clear_results(application_id: int, run: int) -> bool:
    """An earlier run's (or an interrupted one's) reasons go."""
    async with in_transaction() as conn:
        if await _locked_if_current(application_id, run) is None:
            return False
        await bulk.execute_many(
            "DELETE FROM device_failure WHERE application_id = ?", [[application_id]], conn
        )
    return True


class _Writer:
    """A window's failure rows, written a check at a time while the checks after it run,
    each check's in a transaction of its own (`_store_window`); `task` ends once all are
    written (False: the run was superseded meanwhile)."""

    def __init__(self, application_id: int, run: int, ctx: AnalysisContext) -> None:
        self._application_id = application_id
        self._ctx: AnalysisContext | None = ctx
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[list[tuple[int, int, str, str | None]] | None] = asyncio.Queue()
        self._stopped = False
        self.task = asyncio.ensure_future(self._write(application_id, run))

    def found(self, code: CheckCode, failing: set[int]) -> None:
        """A check's failing devices; called where the checks run (their thread): the rows
        are made there, off the event loop."""
        ctx, application_id = self._ctx, self._application_id
        assert ctx is not None, "found after close"
        devices = ctx.devices
        rows = [
            # A reason with the IMEIs it blames (None: the device as a whole).
            (application_id, devices[i].row, code.value, ctx.imei_positions(i, code))
            for i in sorted(failing)
        ]
        if rows:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, rows)

    def close(self) -> None:
        """No more checks: the task ends once what was found is written. The window's
        context is let go (the next window is loaded while this one's rows are written)."""
        self._ctx = None
        self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    def stop(self) -> None:
        """Write nothing after the transaction under way (the run failed)."""
        self._stopped = True
        self.close()

    async def _write(self, application_id: int, run: int) -> bool:
        while (rows := await self._queue.get()) is not None and not self._stopped:
            if not await _store_window(application_id, run, rows):
                return False
        return not self._stopped


async def _store_window(
    application_id: int, run: int, rows: list[tuple[int, int, str, str | None]]
) -> bool:
    """Reasons as rows (application, row number, code, IMEI positions), in one transaction
    of their own (a short hold of SQLite's writer). A device's outcome is derived from its
    failure rows (resolvers.applications.outcome), and counts only once `_finish` marks
    the list analysed: no statement writes the devices' rows. (The registry's brand/model
    of a mismatching device is read with its reasons: written here, 100,000 devices'
    UPDATEs took 6.5 s on PostgreSQL.)"""
    async with in_transaction() as conn:
        if await _locked_if_current(application_id, run) is None:
            return False
        await bulk.insert_rows(
            "device_failure",
            ("application_id", "row_number", "code", "imei_positions"),
            rows,
            conn,
        )
    return True


async def _finish(application_id: int, run: int, passed: int, failed: int) -> bool:
    """The counts (which mark the list analysed), the declaration compared with it, and
    the application moved on: one transaction."""
    async with in_transaction() as conn:
        locked = await _locked_if_current(application_id, run)
        if locked is None:
            return False
        locked.passed_device_count = passed
        locked.failed_device_count = failed
        locked.analysis_finished_at = clock.now()
        await locked.save(
            update_fields=["passed_device_count", "failed_device_count", "analysis_finished_at"]
        )
        # Art. 10(3): the declaration against the list just stored, as its own step.
        differences = await declarations.compare_with_list(conn, application_id)
        details = {
            "run": run,
            "passed": passed,
            "failed": failed,
            "declarationDifferences": differences,
        }
        if locked.channel == Channel.PAPER:
            # Art. 10(5): one failing device rejects a paper application as a whole.
            if failed:
                await transitions.apply(
                    ANALYST,
                    locked,
                    Action.FAIL_PAPER_ANALYSIS,
                    reason=Bilingual(
                        f"{failed} cihaz teknik kontrollerden geçemedi; evrak yoluyla "
                        "yapılan başvuru tümüyle reddedilir (Tebliğ madde 10(5))",
                        f"{failed} device(s) failed the technical checks; a paper "
                        "application is rejected as a whole (art. 10(5))",
                    ),
                    details=details,
                )
            else:
                await transitions.apply(
                    ANALYST, locked, Action.PASS_PAPER_ANALYSIS, details=details
                )
        else:
            await transitions.apply(ANALYST, locked, Action.FINISH_ANALYSIS, details=details)
    return True


def _current(application: Application, run: int) -> bool:
    return application.status == ApplicationStatus.IN_ANALYSIS and application.analysis_run == run
