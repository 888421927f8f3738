"""The analysis job: run the technical checks over an application's devices, store all
results in one transaction, move the application on.

Restart-safe: a job interrupted anywhere leaves no results (they are written in one
transaction at the end), and the job's lease expiry lets another worker run it again;
the same input gives the same results.
"""

from __future__ import annotations

import logging
import time

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import clock
from models.applications import Application
from models.checks import IMEI_STANDARD_CODES
from models.jobs import Job
from models.workflow import Action, ApplicationKind, ApplicationStatus, Channel
from resolvers import bulk, jobs, metrics
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


async def load_devices(application_id: int) -> list[DeviceLine]:
    conn = bulk.current()
    p = bulk.placeholders(conn, 1)
    _, rows = await conn.execute_query(
        "SELECT row_number, brand, model_code, imei1, imei2, imei3, imei4 FROM device "
        f"WHERE application_id = {p} ORDER BY row_number",
        [application_id],
    )
    return [
        DeviceLine(row=r[0], brand=r[1], model=r[2], imeis=tuple(i for i in r[3:7] if i))
        for r in rows
    ]


@jobs.handler(JOB_KIND)
async def run_analysis_job(job: Job) -> None:
    await analyse(int(job.payload["applicationId"]), int(job.payload["run"]))


async def analyse(application_id: int, run: int) -> None:
    application = await Application.get_or_none(id=application_id)
    if application is None or not _current(application, run):
        return  # withdrawn, or superseded by a newer run: nothing to do
    started = time.perf_counter()
    devices = await load_devices(application_id)
    ctx = AnalysisContext(application_id=application_id, devices=devices)
    checks = ALL_CHECKS
    # Art. 12(2), 12(4): test devices need not meet the IMEI standard — on paper; an
    # electronic test application is one whose IMEIs do, with TACs in the registry.
    if application.kind == ApplicationKind.TEST and application.channel == Channel.PAPER:
        checks = tuple(c for c in ALL_CHECKS if c.code not in IMEI_STANDARD_CODES)
    loaded = time.perf_counter()
    reasons = await evaluate(ctx, checks)
    evaluated = time.perf_counter()

    async with in_transaction() as conn:
        locked = await Application.filter(id=application_id).select_for_update().first()
        if locked is None or not _current(locked, run):
            return
        p1, p2 = bulk.placeholders(conn, 1), bulk.placeholders(conn, 1, start=2)
        await conn.execute_query(
            f"DELETE FROM device_failure WHERE application_id = {p1}", [application_id]
        )
        await conn.execute_query(
            f"UPDATE device SET passed = {p1}, tac_brand = NULL, tac_model = NULL "
            f"WHERE application_id = {p2}",
            [True, application_id],
        )
        await _mark_failed(
            conn,
            application_id,
            [(devices[i].row, *ctx.registry_identity.get(i, (None, None))) for i in reasons],
        )
        await bulk.insert_rows(
            "device_failure",
            ("application_id", "row_number", "code", "imei_positions"),
            (
                (
                    application_id,
                    devices[i].row,
                    code.value,
                    ctx.imei_positions(i, code),
                )
                for i, codes in reasons.items()
                for code in codes
            ),
            conn,
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


async def _mark_failed(
    conn: BaseDBAsyncClient,
    application_id: int,
    rows: list[tuple[int, str | None, str | None]],
) -> None:
    """Set the failing devices (row, registry brand, registry model) in bulk."""
    if not rows:
        return
    if bulk.is_postgres(conn):
        # One statement joining three arrays beats hundreds of thousands of UPDATEs.
        numbers, brands, models = (list(column) for column in zip(*rows, strict=True))
        await conn.execute_query(
            "UPDATE device AS d SET passed = FALSE, tac_brand = v.b, tac_model = v.m "
            "FROM unnest($2::int[], $3::text[], $4::text[]) AS v(r, b, m) "
            "WHERE d.application_id = $1 AND d.row_number = v.r",
            [application_id, numbers, brands, models],
        )
        return
    await bulk.execute_many(
        "UPDATE device SET passed = 0, tac_brand = ?, tac_model = ? "
        "WHERE application_id = ? AND row_number = ?",
        [(brand, model, application_id, number) for number, brand, model in rows],
        conn,
    )


def _current(application: Application, run: int) -> bool:
    return application.status == ApplicationStatus.IN_ANALYSIS and application.analysis_run == run
