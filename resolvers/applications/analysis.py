"""The analysis job: run the technical checks over an application's devices, store all
results in one transaction, move the application on.

Restart-safe: a job interrupted anywhere leaves no results (they are written in one
transaction at the end), and the job's lease expiry lets another worker run it again;
the same input gives the same results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import clock
from models.applications import Application
from models.checks import IMEI_STANDARD_CODES
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


async def load_devices(application_id: int) -> list[DeviceLine]:
    """The list in row order, a range of row numbers per query (a million rows in one
    answer would hold the event loop, and on SQLite the connection, for seconds).

    Ranges, not "the next N after the last row": PostgreSQL's statistics do not know a list
    staged moments ago, and it planned `row_number > ? ORDER BY row_number LIMIT N` as a
    scan of the whole rest of the list and a sort, each batch (18 s for a million rows in
    batches of 5,000, against 2 s)."""
    devices: list[DeviceLine] = []
    # One string per distinct brand and model, not one per row: a list holds a handful of
    # each, and a million rows' copies were a fifth of the analysis' memory.
    names: dict[str, str] = {}
    name = names.setdefault
    first, last = (
        await bulk.select(
            "SELECT MIN(row_number), MAX(row_number) FROM device WHERE application_id = ?",
            [application_id],
        )
    )[0]
    if first is None:
        return devices
    for start in range(int(first) - 1, int(last), LOAD_ROWS):
        rows = await bulk.select(
            "SELECT row_number, brand, model_code, imei1, imei2, imei3, imei4 FROM device "
            "WHERE application_id = ? AND row_number > ? AND row_number <= ? "
            "ORDER BY row_number",
            [application_id, start, start + LOAD_ROWS],
        )
        devices += [
            DeviceLine(r[0], name(r[1], r[1]), name(r[2], r[2]), tuple(filter(None, r[3:7])))
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


@interpreter.with_collector_paused
async def _analyse(application: Application, run: int) -> None:
    application_id = application.id
    started = time.perf_counter()
    ctx = AnalysisContext(application_id=application_id, devices=[], staged=True)
    # The lookups in the big tables need only the staged IMEIs: they run in the database
    # while the list is loaded and checked here.
    ctx.prefetch()
    try:
        await _check_and_store(application, run, ctx, started)
    finally:
        ctx.discard()


async def _check_and_store(
    application: Application, run: int, ctx: AnalysisContext, started: float
) -> None:
    application_id = application.id
    devices = ctx.devices = await load_devices(application_id)
    checks = ALL_CHECKS
    # Art. 12(2), 12(4): test devices need not meet the IMEI standard — on paper; an
    # electronic test application is one whose IMEIs do, with TACs in the registry.
    if application.kind == ApplicationKind.TEST and application.channel == Channel.PAPER:
        checks = tuple(c for c in ALL_CHECKS if c.code not in IMEI_STANDARD_CODES)
    loaded = time.perf_counter()
    reasons = await evaluate(ctx, checks, in_thread=True)
    evaluated = time.perf_counter()

    async with in_transaction() as conn:
        locked = await Application.filter(id=application_id).select_for_update().first()
        if locked is None or not _current(locked, run):
            return
        await _store_results(
            conn,
            application_id,
            (
                # Every reason with the IMEIs it blames (None: the device as a whole).
                (devices[i].row, code.value, ctx.imei_positions(i, code))
                for i, codes in reasons.items()
                for code in codes
            ),
            [(devices[i].row, *identity) for i, identity in ctx.registry_identity.items()],
        )
        locked.passed_device_count = len(devices) - len(reasons)
        locked.failed_device_count = len(reasons)
        locked.analysis_finished_at = clock.now()
        await locked.save(
            update_fields=["passed_device_count", "failed_device_count", "analysis_finished_at"]
        )
        # Art. 10(3): the declaration against the list just stored, as its own step.
        differences = await declarations.compare_with_list(conn, application_id)
        details = {
            "run": run,
            "passed": locked.passed_device_count,
            "failed": len(reasons),
            "declarationDifferences": differences,
        }
        if locked.channel == Channel.PAPER:
            # Art. 10(5): one failing device rejects a paper application as a whole.
            if reasons:
                await transitions.apply(
                    ANALYST,
                    locked,
                    Action.FAIL_PAPER_ANALYSIS,
                    reason=Bilingual(
                        f"{len(reasons)} cihaz teknik kontrollerden geçemedi; evrak yoluyla "
                        "yapılan başvuru tümüyle reddedilir (Tebliğ madde 10(5))",
                        f"{len(reasons)} device(s) failed the technical checks; a paper "
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
    log.info(
        "application %s analysed (run %s): %s devices, %s failed in %.2f s "
        "(load %.2f, checks %.2f, write %.2f)",
        application_id,
        run,
        len(devices),
        len(reasons),
        time.perf_counter() - started,
        loaded - started,
        evaluated - loaded,
        time.perf_counter() - evaluated,
    )
    metrics.analysis_finished(time.perf_counter() - started)


async def _store_results(
    conn: BaseDBAsyncClient,
    application_id: int,
    failures: Iterable[tuple[int, str, str | None]],
    identities: list[tuple[int, str, str]],
) -> None:
    """The reasons as rows (row number, code, IMEI positions), and the few devices shown with
    the registry's brand/model. A device's outcome is derived from its failure rows
    (resolvers.applications.outcome): no statement writes the passing devices' rows."""
    await bulk.execute_many(
        "DELETE FROM device_failure WHERE application_id = ?", [[application_id]], conn
    )
    await bulk.insert_rows(
        "device_failure",
        ("application_id", "row_number", "code", "imei_positions"),
        ((application_id, row, code, positions) for row, code, positions in failures),
        conn,
    )
    # An earlier run's identities (a re-analysis): only the rows that have one are written.
    await bulk.select(
        "UPDATE device SET tac_brand = NULL, tac_model = NULL "
        "WHERE application_id = ? AND (tac_brand IS NOT NULL OR tac_model IS NOT NULL)",
        [application_id],
        conn,
    )
    if not identities:
        return
    if bulk.is_postgres(conn):
        # One statement joining arrays beats thousands of UPDATEs.
        numbers, brands, models = (list(column) for column in zip(*identities, strict=True))
        await conn.execute_query(
            "UPDATE device AS d SET tac_brand = v.b, tac_model = v.m "
            "FROM unnest($2::int[], $3::text[], $4::text[]) AS v(r, b, m) "
            "WHERE d.application_id = $1 AND d.row_number = v.r",
            [application_id, numbers, brands, models],
        )
        return
    await bulk.execute_many(
        "UPDATE device SET tac_brand = ?, tac_model = ? "
        "WHERE application_id = ? AND row_number = ?",
        [(brand, model, application_id, number) for number, brand, model in identities],
        conn,
    )


def _current(application: Application, run: int) -> bool:
    return application.status == ApplicationStatus.IN_ANALYSIS and application.analysis_run == run
