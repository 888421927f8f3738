"""A firm's shipment from upload to stored analysis results, against a 1,000,000-entry
whitelist.

    python bench/bench_analysis.py                      # 100,000 devices, SQLite
    python bench/bench_analysis.py --imeis 1000000      # about 1,000,000 IMEIs
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python bench/bench_analysis.py

The .xlsx is generated in a child process first (mixed single- and dual-IMEI devices, about
5 % of devices failing for each check code), so the peak RSS printed is the gateway's own:
the upload (store, parse, stage) and the analysis job (checks, results) as the worker runs
them. On PostgreSQL the named database is emptied and migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiofiles

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.imei import luhn_check_digit
from resolvers.settings import Settings, configure, normalise_database_url

WHITELIST_SIZE = 1_000_000
DUAL = ("APPLE", "A2403", "35000011")
DUAL_SECOND_TAC = "35000012"  # the same model's second IMEI range
SINGLE = ("SAMSUNG", "SM-G9359", "35000022")
OTHER = ("NOKIA", "3310", "35000033")
REGISTERED_TAC = "35999999"  # the 1,000,000 whitelist entries
BLACK_TAC = "35888888"
PENDING_TAC = "35777777"


def imei(tac: str, serial: int) -> str:
    body = f"{tac}{serial:06d}"
    return body + luhn_check_digit(body)


def device_rows(devices: int):  # type: ignore[no-untyped-def]
    """(brand, model, imeis…) rows: ~5 % failing per code, the rest mixed single/dual."""
    serial = 0
    previous = imei(SINGLE[2], 999_999)
    for n in range(devices):
        serial += 1
        case = n % 20
        single = imei(SINGLE[2], serial % 1_000_000)
        if case == 0:
            yield (
                SINGLE[0],
                SINGLE[1],
                single[:-1] + str((int(single[-1]) + 1) % 10),
            )  # INVALID_IMEI
        elif case == 1:
            yield (DUAL[0], DUAL[1], imei(DUAL[2], serial % 1_000_000))  # SIM_COUNT_MISMATCH
        elif case == 2:
            yield (
                SINGLE[0],
                SINGLE[1],
                imei(REGISTERED_TAC, n % WHITELIST_SIZE),
            )  # ALREADY_REGISTERED
        elif case == 3:
            yield (SINGLE[0], SINGLE[1], imei(BLACK_TAC, n % 1_000_000))  # BLACKLISTED
        elif case == 4:
            yield (SINGLE[0], SINGLE[1], imei("35666666", n % 1_000_000))  # TAC_NOT_FOUND
        elif case == 5:
            yield (SINGLE[0], SINGLE[1], imei(OTHER[2], n % 1_000_000))  # MODEL_MISMATCH
        elif case == 6:
            yield (SINGLE[0], SINGLE[1], previous)  # DUPLICATE_IN_LIST
        elif case == 7:
            yield (SINGLE[0], SINGLE[1], imei(PENDING_TAC, n % 1_000_000))  # PENDING_ELSEWHERE
        elif case % 2:
            yield (
                DUAL[0],
                DUAL[1],
                imei(DUAL[2], serial % 1_000_000),
                imei(DUAL_SECOND_TAC, serial % 1_000_000),
            )
        else:
            yield (SINGLE[0], SINGLE[1], single)
        if case == 5:
            previous = imei(OTHER[2], n % 1_000_000)


def write_xlsx(path: str, devices: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("IMEI Listesi")
    sheet.append(["MARKA", "MODEL", "IMEI1", "IMEI2", "IMEI3", "IMEI4"])
    for row in device_rows(devices):
        sheet.append(list(row))
    book.save(path)


async def seed(devices: int) -> None:
    from models import clock
    from models.tac import TacModel
    from resolvers import bulk

    now = clock.now()
    for brand, model, tac in (DUAL, SINGLE, OTHER):
        count = 2 if (brand, model, tac) == DUAL else 1
        await TacModel.create(
            tac=tac, brand=brand, model_code=model, imei_count=count, created_at=now, updated_at=now
        )
    await TacModel.create(
        tac=DUAL_SECOND_TAC,
        brand=DUAL[0],
        model_code=DUAL[1],
        imei_count=2,
        created_at=now,
        updated_at=now,
    )
    for tac in (REGISTERED_TAC, BLACK_TAC, PENDING_TAC):
        await TacModel.create(
            tac=tac,
            brand=SINGLE[0],
            model_code=SINGLE[1],
            imei_count=1,
            created_at=now,
            updated_at=now,
        )
    started = time.perf_counter()
    from tortoise.transactions import in_transaction

    async with in_transaction() as conn:
        await bulk.insert_rows(
            "whitelist_entry",
            ("imei", "tac", "brand", "model_code", "status", "source", "registered_at"),
            (
                (
                    imei(REGISTERED_TAC, n),
                    REGISTERED_TAC,
                    "SAMSUNG",
                    "SM-G9359",
                    "REGISTERED",
                    "FIRM_APPLICATION",
                    now,
                )
                for n in range(WHITELIST_SIZE)
            ),
            conn,
        )
        await bulk.insert_rows(
            "blacklist_entry",
            ("imei", "reason", "reference", "reported_by", "created_at"),
            ((imei(BLACK_TAC, n), "STOLEN", "", "bench", now) for n in range(3, devices, 20)),
            conn,
        )
        from models.applications import Application

        other = (
            await Application.create(
                firm_id=0,
                kind="IMPORT",
                status="UNDER_REVIEW",
                created_by="bench",
                created_at=now,
                updated_at=now,
            )
        ).id
        await bulk.insert_rows(
            "device_imei",
            ("application_id", "row_number", "imei"),
            ((other, n, imei(PENDING_TAC, n)) for n in range(7, devices, 20)),
            conn,
        )
    print(f"  seeded {WHITELIST_SIZE:,} whitelist entries in {time.perf_counter() - started:.1f} s")


async def chunks_of(path: Path) -> AsyncIterator[bytes]:
    """The file as an upload arrives: in 1 MB pieces."""
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(1 << 20):
            yield chunk


async def run(xlsx: Path, devices: int, database_url: str) -> None:
    from gateway.db import close_db, init_db, migrate
    from models import clock
    from models.accounts import Firm, User
    from models.applications import Application
    from models.documents import DocumentKind
    from models.roles import FirmKind, Role
    from resolvers import jobs
    from resolvers.actor import Actor
    from resolvers.applications import devices as device_lists
    from resolvers.applications import drafts
    from resolvers.job_kinds import load_handlers
    from resolvers.workflow import documents as workflow_documents
    from resolvers.workflow.requirements import ce_requirements

    load_handlers()
    await migrate(database_url)
    await init_db(database_url)
    try:
        await seed(devices)
        now = clock.now()
        firm = await Firm.create(
            name="Bench A.Ş.",
            tax_number="1234567890",
            kind=FirmKind.IMPORTER,
            contact_email="b@x.co",
            created_at=now,
        )
        for name, role in (("bench.user", Role.FIRM_USER), ("bench.super", Role.FIRM_SUPERVISOR)):
            await User.create(
                username=name,
                full_name=name,
                email="b@x.co",
                role=role,
                firm_id=firm.id,
                password_hash="-",
                must_change_password=False,
                created_at=now,
            )
        user = Actor(kind="USER", role=Role.FIRM_USER, id=1, name="bench.user", firm_id=firm.id)
        supervisor = Actor(
            kind="USER", role=Role.FIRM_SUPERVISOR, id=2, name="bench.super", firm_id=firm.id
        )
        application = await drafts.create_application(
            user,
            drafts.ApplicationKind.IMPORT,
            drafts.ApplicationData(
                import_date=now.date(),
                customs_declaration_no="26341300IM000001",
                origin_country="CN",
                invoice_no="F-1",
                invoice_date=now.date(),
            ),
        )
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        t0, c0 = time.perf_counter(), time.process_time()
        result = await device_lists.upload_device_list(
            user, application.id, chunks_of(xlsx), "bench.xlsx"
        )
        t1, c1 = time.perf_counter(), time.process_time()
        # The documents a submission needs: the invoice scan, a CE scan per model.
        scan = b"\xff\xd8\xff\xe0" + b"\x00" * 1024 + b"\xff\xd9"
        await workflow_documents.upload_application_document(
            user, application.id, DocumentKind.INVOICE, scan, "fatura.jpg"
        )
        for group in await ce_requirements(application):
            await workflow_documents.upload_ce_certificate(
                user, group.brand, group.model, scan, "ce.jpg"
            )
        await drafts.submit(user, application.id)
        await drafts.send_to_analysis(supervisor, application.id)
        c_docs = time.process_time()
        t_docs = time.perf_counter()
        await jobs.drain("bench")
        t2, c2 = time.perf_counter(), time.process_time()
        done = await Application.get(id=application.id)
        assert done.status == "AWAITING_SIGNATURE_CHOICE", done.status
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        imeis = result.imei_count
        print(
            f"  devices {result.device_count:,}, IMEIs {imeis:,}: "
            f"passed {done.passed_device_count:,}, failed {done.failed_device_count:,}"
        )
        # Wall clock and this process's CPU (all threads): on a shared machine the CPU
        # figure is the steadier of the two.
        print(f"  upload (store, parse, stage): {t1 - t0:5.1f} s  (CPU {c1 - c0:5.1f} s)")
        print(f"  analysis (checks, results):   {t2 - t_docs:5.1f} s  (CPU {c2 - c_docs:5.1f} s)")
        wall = (t1 - t0) + (t2 - t_docs)
        cpu = (c1 - c0) + (c2 - c_docs)
        print(
            f"  upload to results stored:     {wall:5.1f} s  (CPU {cpu:5.1f} s) "
            f"= {imeis / wall:,.0f} IMEIs/s"
        )
        print(f"  peak RSS {peak:,.0f} MB (after seeding: {base_rss:,.0f} MB)")
    finally:
        await close_db()


class _StepLines(logging.Handler):
    """The upload's and the analysis' own step timings, printed as they are logged."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"    {record.name}: {record.getMessage()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--devices", type=int, default=100_000)
    group.add_argument("--imeis", type=int, help="size the list by IMEIs (dual devices count 2)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mcks-bench",
        help="where generated files are kept for the next run",
    )
    args = parser.parse_args()
    for name in ("mcks.analysis", "mcks.upload"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(_StepLines())
    # 60 % of devices are the mixed passing ones, half of them dual: 1.3 IMEIs per device.
    devices = args.devices if args.imeis is None else int(args.imeis / 1.3)
    with tempfile.TemporaryDirectory() as tmp:
        args.cache.mkdir(parents=True, exist_ok=True)
        xlsx = args.cache / f"bench-{devices}.xlsx"
        if not xlsx.exists():
            started = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(
                target=write_xlsx, args=(str(xlsx) + ".part", devices)
            )
            child.start()
            child.join()
            os.replace(str(xlsx) + ".part", xlsx)
            print(f"generated {devices:,} devices in {time.perf_counter() - started:.1f} s")
        print(f"{xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB)")
        url = normalise_database_url(
            os.environ.get("DATABASE_URL", "") or f"sqlite://{tmp}/bench.sqlite3"
        )
        if url.startswith("postgres://"):
            import subprocess

            dbname = url.rsplit("/", 1)[1]
            subprocess.run(
                [
                    "psql",
                    url.replace("postgres://", "postgresql://").rsplit("/", 1)[0] + "/postgres",
                    "-qc",
                    f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)",
                    "-qc",
                    f"CREATE DATABASE {dbname}",
                ],
                check=True,
            )
        print(f"backend: {url.split('://')[0]}")
        configure(
            Settings(
                env="test",
                secret_key="bench",
                database_url=url,
                storage_dir=Path(tmp) / "files",
                max_device_file_bytes=500 * 1024 * 1024,
                max_device_file_unpacked_bytes=1024 * 1024 * 1024,
            )
        )
        asyncio.run(run(xlsx, devices, url))


if __name__ == "__main__":
    main()
