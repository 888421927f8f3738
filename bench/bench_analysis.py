"""A firm's shipment from upload to stored analysis results, against a 1,000,000-entry
whitelist.

    python bench/bench_analysis.py                      # 100,000 devices, SQLite
    python bench/bench_analysis.py --imeis 1000000      # about 1,000,000 IMEIs
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python bench/bench_analysis.py
    python bench/bench_analysis.py --imeis 10000000 --format csv   # one CSV, checked in windows

The list is generated in a child process first (mixed single- and dual-IMEI devices, about
5 % of devices failing for each check code), so the peak RSS printed is the gateway's own:
the upload (store, parse, stage) and the analysis job (checks, results) as the worker runs
them. On PostgreSQL the named database is emptied and migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiofiles
from PIL import Image

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


def whitelisted_imei(n: int) -> str:
    """The n-th seeded whitelist entry: the first million share the list's REGISTERED_TAC,
    the rest (a bigger whitelist) other TACs no device of the list has."""
    return imei(REGISTERED_TAC if n < 1_000_000 else f"3599{n // 1_000_000:04d}", n % 1_000_000)


def block_tac(tac: str, serial: int) -> str:
    """The passing devices' TAC for the serial's million (a list of more than a million
    devices takes its IMEIs from several TACs of the same model, as a real one would)."""
    block = serial // 1_000_000
    return tac if block == 0 else f"35{10 + block:02d}{tac[4:]}"


def blocks(devices: int) -> int:
    return devices // 1_000_000 + 1


def device_rows(devices: int):  # type: ignore[no-untyped-def]
    """(brand, model, imeis…) rows: ~5 % failing per code, the rest mixed single/dual; every
    IMEI distinct but the DUPLICATE_IN_LIST ones, up to 20,000,000 devices."""
    serial = 0
    previous = imei(SINGLE[2], 999_999)
    for n in range(devices):
        serial += 1
        case, nth = n % 20, n // 20  # nth: the device's number among its case's
        low = serial % 1_000_000
        single = imei(block_tac(SINGLE[2], serial), low)
        if case == 0:
            yield (
                SINGLE[0],
                SINGLE[1],
                single[:-1] + str((int(single[-1]) + 1) % 10),
            )  # INVALID_IMEI
        elif case == 1:
            yield (DUAL[0], DUAL[1], imei(block_tac(DUAL[2], serial), low))  # SIM_COUNT_MISMATCH
        elif case == 2:
            yield (SINGLE[0], SINGLE[1], whitelisted_imei(nth % WHITELIST_SIZE))  # REGISTERED
        elif case == 3:
            yield (SINGLE[0], SINGLE[1], imei(BLACK_TAC, nth))  # BLACKLISTED
        elif case == 4:
            yield (SINGLE[0], SINGLE[1], imei("35666666", nth))  # TAC_NOT_FOUND
        elif case == 5:
            yield (SINGLE[0], SINGLE[1], imei(OTHER[2], nth))  # MODEL_MISMATCH
        elif case == 6:
            yield (SINGLE[0], SINGLE[1], previous)  # DUPLICATE_IN_LIST
        elif case == 7:
            yield (SINGLE[0], SINGLE[1], imei(PENDING_TAC, nth))  # PENDING_ELSEWHERE
        elif case % 2:
            yield (
                DUAL[0],
                DUAL[1],
                imei(block_tac(DUAL[2], serial), low),
                imei(block_tac(DUAL_SECOND_TAC, serial), low),
            )
        else:
            yield (SINGLE[0], SINGLE[1], single)
        if case == 5:
            previous = imei(OTHER[2], nth)


def write_list(path: str, devices: int) -> None:
    """The list as an .xlsx (the template's sheet) or, for a path ending in .csv, as the
    ';'-separated CSV Excel saves on a Turkish Windows."""
    if path.removesuffix(".part").endswith(".csv"):
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write("MARKA;MODEL;IMEI1;IMEI2;IMEI3;IMEI4\n")
            out.writelines(";".join(row) + "\n" for row in device_rows(devices))
        return
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("IMEI Listesi")
    sheet.append(["MARKA", "MODEL", "IMEI1", "IMEI2", "IMEI3", "IMEI4"])
    for row in device_rows(devices):
        sheet.append(list(row))
    book.save(path)


async def seed(devices: int, whitelist: int) -> None:
    from models import clock
    from models.tac import TacModel
    from resolvers import bulk

    now = clock.now()
    for block in range(blocks(devices)):
        for brand, model, tac in (DUAL, SINGLE, (*DUAL[:2], DUAL_SECOND_TAC)):
            await TacModel.create(
                tac=block_tac(tac, block * 1_000_000),
                brand=brand,
                model_code=model,
                imei_count=2 if brand == DUAL[0] else 1,
                created_at=now,
                updated_at=now,
            )
    await TacModel.create(
        tac=OTHER[2],
        brand=OTHER[0],
        model_code=OTHER[1],
        imei_count=1,
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
                    whitelisted_imei(n),
                    whitelisted_imei(n)[:8],
                    "SAMSUNG",
                    "SM-G9359",
                    "REGISTERED",
                    "FIRM_APPLICATION",
                    now,
                )
                for n in range(whitelist)
            ),
            conn,
        )
        await bulk.insert_rows(
            "blacklist_entry",
            ("imei", "reason", "reference", "reported_by", "created_at"),
            ((imei(BLACK_TAC, n // 20), "STOLEN", "", "bench", now) for n in range(3, devices, 20)),
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
            ((other, n, imei(PENDING_TAC, n // 20)) for n in range(7, devices, 20)),
            conn,
        )
    if bulk.is_postgres(bulk.current()):
        # Fresh statistics, as autovacuum would give a table of this size: the planner's
        # choice of join depends on them.
        await bulk.current().execute_script("ANALYZE")
    print(f"  seeded {whitelist:,} whitelist entries in {time.perf_counter() - started:.1f} s")


async def chunks_of(path: Path) -> AsyncIterator[bytes]:
    """The file as an upload arrives: in 1 MB pieces."""
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(1 << 20):
            yield chunk


# --- operators' checks served by the same process meanwhile --------------------------------

PROBE_QUERY = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei verdict status } }"
PROBE_INTERVAL = 0.02  # 50 checks per second, one at a time


def probe(port: int, token: str, stop: Any, out: Any) -> None:
    """An operator's system in its own process: one single-IMEI check every 20 ms over a
    keep-alive connection; (sent at, latency) of each goes back at the end."""
    import http.client
    import json

    body = json.dumps(
        {"query": PROBE_QUERY, "variables": {"imeis": [imei(REGISTERED_TAC, 12)]}}
    ).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[tuple[float, float]] = []
    while not stop.is_set():
        sent, started = time.time(), time.perf_counter()
        connection.request("POST", "/graphql", body, headers)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        latency = time.perf_counter() - started
        samples.append((sent, latency))
        time.sleep(max(0.0, PROBE_INTERVAL - latency))
    out.put(samples)


class Probe:
    """The gateway app on loopback in this process, and the operator probe against it."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def __aenter__(self) -> Probe:
        import uvicorn

        from gateway.app import create_app

        class Embedded(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):  # type: ignore[no-untyped-def]
                yield  # the bench keeps its own signal handling

        config = uvicorn.Config(
            create_app(manage_db=False),
            host="127.0.0.1",
            port=0,
            lifespan="off",
            access_log=False,
            log_level="warning",
        )
        self.server = Embedded(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110  (uvicorn offers only the flag)
            await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self.stop, self.out = context.Event(), context.Queue()
        self.process = context.Process(target=probe, args=(port, self.token, self.stop, self.out))
        self.process.start()
        await asyncio.sleep(2)  # the probe's interpreter starts; the first checks warm up
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        self.samples: list[tuple[float, float]] = await asyncio.to_thread(self.out.get)
        self.process.join()
        self.server.should_exit = True
        await self.task

    def report(self, step: str, start: float, end: float) -> None:
        latencies = sorted(lat for sent, lat in self.samples if start <= sent <= end)
        if not latencies:
            print(f"  operator checks during {step}: none answered")
            return
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"  operator checks during {step}: {len(latencies)}, p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )


async def operator_client() -> str:
    """An operator's machine client, as staff create one; its token."""
    from models.accounts import ClientKind
    from resolvers.accounts.admin import create_client
    from resolvers.actor import Actor

    _, issued = await create_client(
        Actor.system("bench"), "Bench GSM", ClientKind.OPERATOR, operator_code="BENCHGSM"
    )
    return issued.token


async def run(
    xlsx: Path,
    devices: int,
    database_url: str,
    with_operators: bool,
    whitelist: int,
    reupload: bool = False,
) -> None:
    from gateway.db import close_db, init_db, migrate
    from models import clock
    from models.accounts import Firm, User
    from models.roles import FirmKind, Role
    from resolvers.actor import Actor
    from resolvers.applications import drafts, list_reader
    from resolvers.job_kinds import load_handlers

    load_handlers()
    # As the gateway does at start-up: big lists' readers are forked from this server.
    list_reader.start_reader_server()
    await migrate(database_url)
    await init_db(database_url)
    try:
        await seed(devices, whitelist)
        token = await operator_client()
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
        if reupload:
            # A firm's corrected list: the same draft's list replaced, the old one deleted
            # in the upload's transaction.
            from resolvers.applications import devices as device_lists

            first = time.perf_counter()
            await device_lists.upload_device_list(user, application.id, chunks_of(xlsx), xlsx.name)
            print(f"  first upload (replaced next): {time.perf_counter() - first:5.1f} s")
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if not with_operators:
            await upload_and_analyse(user, supervisor, application, xlsx, base_rss)
            return
        async with Probe(token) as operators:
            steps = await upload_and_analyse(user, supervisor, application, xlsx, base_rss)
        for step, (start, end) in steps.items():
            operators.report(step, start, end)
    finally:
        await close_db()


async def upload_and_analyse(  # type: ignore[no-untyped-def]
    user, supervisor, application, xlsx: Path, base_rss: float
) -> dict[str, tuple[float, float]]:
    """Upload, submit, analyse; prints the figures, answers when each step ran."""
    from models.applications import Application
    from models.documents import DocumentKind
    from resolvers import bulk, jobs
    from resolvers.applications import declarations, drafts
    from resolvers.applications import devices as device_lists
    from resolvers.workflow import documents as workflow_documents
    from resolvers.workflow.requirements import ce_requirements

    collections = _Collections()
    w0, t0, c0 = time.time(), time.perf_counter(), time.process_time()
    result = await device_lists.upload_device_list(user, application.id, chunks_of(xlsx), xlsx.name)
    w1, t1, c1 = time.time(), time.perf_counter(), time.process_time()
    # What a submission needs: the declared table (as listed), the invoice scan (a JPEG
    # that decodes), a CE scan per model.
    conn = bulk.current()
    _, listed = await conn.execute_query(
        "SELECT brand, model_code, COUNT(*) FROM device WHERE application_id = "
        f"{bulk.placeholders(conn, 1)} GROUP BY brand, model_code",
        [application.id],
    )
    await drafts.update_application(
        user,
        application.id,
        drafts.ApplicationData(
            declared_devices=[declarations.DeclaredLine(b, m, int(n)) for b, m, n in listed]
        ),
    )
    image = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(image, "JPEG")
    scan = image.getvalue()
    await workflow_documents.upload_application_document(
        user, application.id, DocumentKind.INVOICE, scan, "fatura.jpg"
    )
    for group in await ce_requirements(application):
        await workflow_documents.upload_ce_certificate(
            user, group.brand, group.model, scan, "ce.jpg"
        )
    await drafts.submit(user, application.id)
    await drafts.send_to_analysis(supervisor, application.id)
    w2, t2, c2 = time.time(), time.perf_counter(), time.process_time()
    await jobs.drain("bench")
    w3, t3, c3 = time.time(), time.perf_counter(), time.process_time()
    done = await Application.get(id=application.id)
    assert done.status == "AWAITING_SIGNATURE_CHOICE", done.status
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    imeis = result.imei_count
    print(
        f"  devices {result.device_count:,}, IMEIs {imeis:,}: "
        f"passed {done.passed_device_count:,}, failed {done.failed_device_count:,}"
    )
    # Wall clock and this process's CPU (all threads): on a shared machine the CPU figure
    # is the steadier of the two.
    print(f"  upload (store, parse, stage): {t1 - t0:5.1f} s  (CPU {c1 - c0:5.1f} s)")
    print(f"  analysis (checks, results):   {t3 - t2:5.1f} s  (CPU {c3 - c2:5.1f} s)")
    wall, cpu = (t1 - t0) + (t3 - t2), (c1 - c0) + (c3 - c2)
    print(
        f"  upload to results stored:     {wall:5.1f} s  (CPU {cpu:5.1f} s) "
        f"= {imeis / wall:,.0f} IMEIs/s"
    )
    # The reader process of a big list is a child of the readers' fork server: its peak
    # counts once the server, which waited for it, has ended too.
    multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  peak RSS {peak:,.0f} MB (after seeding: {base_rss:,.0f} MB; "
        f"largest child process {children:,.0f} MB)"
    )
    collections.report()
    return {"the upload": (w0, w1), "the analysis": (w2, w3)}


class _Collections:
    """The garbage collector's pauses (every thread stops for them): count and longest."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    def report(self) -> None:
        longest = max(self.pauses, default=0.0)
        print(f"  full collections: {len(self.pauses)}, longest {longest * 1000:.0f} ms")


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
    parser.add_argument(
        "--whitelist",
        type=int,
        default=WHITELIST_SIZE,
        help="whitelist entries seeded (the list's own hits are among the first million)",
    )
    parser.add_argument(
        "--format",
        choices=("xlsx", "csv"),
        default="xlsx",
        help="the list's file type (a CSV is read as a stream: the 10,000,000-IMEI run)",
    )
    parser.add_argument(
        "--window",
        type=int,
        help="rows the analysis checks at a time (default: the analysis' WINDOW_ROWS)",
    )
    parser.add_argument(
        "--operators",
        action="store_true",
        help="serve operators' checks (50/s from another process) meanwhile; p50/p99 per step",
    )
    parser.add_argument(
        "--reupload",
        action="store_true",
        help="upload the list once before: the measured upload replaces a list as big",
    )
    args = parser.parse_args()
    if args.window:
        from resolvers.applications import analysis

        analysis.WINDOW_ROWS = args.window
    for name in ("mcks.analysis", "mcks.upload"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(_StepLines())
    # 60 % of devices are the mixed passing ones, half of them dual: 1.3 IMEIs per device.
    devices = args.devices if args.imeis is None else int(args.imeis / 1.3)
    with tempfile.TemporaryDirectory() as tmp:
        args.cache.mkdir(parents=True, exist_ok=True)
        xlsx = args.cache / f"bench-{devices}.{args.format}"
        if not xlsx.exists():
            started = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(
                target=write_list, args=(str(xlsx) + ".part", devices)
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
                max_device_file_bytes=1024 * 1024 * 1024,
                max_device_file_unpacked_bytes=1024 * 1024 * 1024,
            )
        )
        asyncio.run(run(xlsx, devices, url, args.operators, args.whitelist, args.reupload))


if __name__ == "__main__":
    main()
